/// The generator's vocabulary: kinds, names and the rates that make its numbers behave like the
/// programme's. National volumes are anchored to published figures: about 26,000
/// establishments inspected in 2012 and 8,360 found in violation (MOLISA's 2012 review), and
/// about 30,000 people estimated to sell sex.
enum Vocabulary {
  static let establishmentKinds = [
    "karaoke", "massage", "hotel", "guesthouse", "bar", "dance_hall", "spa", "other",
  ]
  static let establishmentKindWeights: [Double] = [30, 12, 12, 25, 5, 2, 8, 6]
  static let establishmentKindNames = [
    "Karaoke", "Massage", "Khách sạn", "Nhà nghỉ", "Quán bar", "Vũ trường", "Spa", "Quán cà phê",
  ]
  /// The share of inspections of each kind that find a violation, around 2011.
  static let violationRate: [Double] = [0.30, 0.36, 0.12, 0.24, 0.26, 0.32, 0.22, 0.14]
  static let establishmentNames = [
    "Hoàng Gia", "Sao Mai", "Bình Minh", "Ánh Dương", "Thiên Đường", "Hoa Hồng", "Phương Nam",
    "Tuổi Xanh", "Hồng Nhung", "Biển Xanh", "Ngọc Lan", "Thanh Xuân", "Kim Long", "Phú Quý",
    "Hương Sen", "Sen Vàng", "Đại Dương", "Mặt Trời", "Hải Âu", "Trăng Vàng", "Như Ý",
    "Thảo Nguyên", "Bạch Dương", "Hoa Mai", "Tường Vy", "Thiên Thanh", "Song Long", "Hoàng Anh",
    "Minh Châu", "Phố Núi", "Hương Quê", "Royal", "Galaxy", "Paradise", "Diamond", "Golden",
    "Star", "Sunshine", "Ocean", "Luxury", "Queen", "Hạnh Phúc", "Lan Anh", "Thu Trang",
    "Phượng Hồng", "Đồng Xanh",
  ]
  static let closeReasons = [
    "Ngừng kinh doanh", "Chuyển đổi ngành nghề kinh doanh", "Bị thu hồi giấy phép",
    "Hết hạn hợp đồng thuê mặt bằng",
  ]

  static let tipSources = ["citizen", "hotline", "police", "media", "worker", "other"]
  static let tipSourceWeights: [Double] = [40, 20, 20, 5, 5, 10]
  static let tipAboutEstablishment = [
    "Người dân phản ánh {} có dấu hiệu tổ chức hoạt động mua bán dâm",
    "Tin báo qua đường dây nóng về việc nhân viên {} bán dâm cho khách",
    "Phát hiện nghi vấn môi giới mại dâm tại {}",
    "Báo chí phản ánh tình trạng kích dục trá hình tại {}",
    "Người lao động tố giác chủ {} ép buộc nhân viên tiếp khách",
    "Phản ánh nhiều người lạ thường xuyên ra vào {} vào ban đêm",
    "Phụ huynh phản ánh học sinh làm nhân viên phục vụ tại {}",
  ]
  static let tipAboutArea = [
    "Phản ánh hoạt động mại dâm đứng đường tại khu vực {}",
    "Nghi vấn môi giới mại dâm qua mạng xã hội trên địa bàn {}",
    "Người dân phản ánh có đối tượng lạ dụ dỗ phụ nữ đi làm xa tại {}",
    "Tin báo về điểm tụ tập mua bán dâm gần chợ đêm thuộc {}",
  ]
  static let classifications = ["administrative", "criminal", "trafficking", "minor"]
  static let classificationWeights: [Double] = [75, 15, 3, 7]

  static let teams = ["interagency_178", "police", "culture", "health"]
  static let teamWeights: [Double] = [45, 30, 15, 10]
  static let sanctions = ["warning", "fine", "suspension", "revocation"]
  static let sanctionWeights: [Double] = [30, 60, 8, 2]

  static let supportKinds = [
    "counselling", "health", "hiv_services", "vocational_training", "job_placement", "loan",
    "legal_aid", "allowance",
  ]
  static let supportKindWeights: [Double] = [20, 20, 12, 15, 10, 8, 8, 7]
  static let supportProviders = [
    "Trung tâm Công tác xã hội ", "Trung tâm Y tế ", "Trung tâm Kiểm soát bệnh tật ",
    "Trường Cao đẳng nghề ", "Trung tâm Dịch vụ việc làm ", "Ngân hàng Chính sách xã hội ",
    "Trung tâm Trợ giúp pháp lý nhà nước ", "Hội Liên hiệp Phụ nữ ",
  ]

  static let outreachForms = ["meeting", "broadcast", "leaflet", "online", "performance"]
  static let outreachFormWeights: [Double] = [40, 15, 20, 15, 10]
  static let outreachReach: [ClosedRange<Int>] = [
    30...300, 1000...50000, 200...5000, 500...20000, 100...2000,
  ]
  static let outreachAudiences = ["residents", "students", "establishment_workers", "staff"]
  static let outreachAudienceWeights: [Double] = [50, 20, 20, 10]
  static let trainingAudiences = ["staff", "collaborators", "police", "teachers"]
  static let trainingAudienceWeights: [Double] = [40, 35, 15, 10]

  static let correctionReasons: [String: [String]] = [
    "inspection.done": [
      "Nhập sai số tiền phạt so với quyết định xử phạt",
      "Điều chỉnh hình thức xử lý theo quyết định của Chủ tịch UBND",
    ],
    "support.provided": [
      "Điều chỉnh số tiền hỗ trợ theo chứng từ chi", "Sai tên đơn vị cung cấp dịch vụ",
    ],
    "outreach.held": ["Cập nhật số người được tuyên truyền theo báo cáo của UBND xã"],
    "training.held": ["Điều chỉnh số người tham dự theo danh sách ký nhận"],
    "tip.received": ["Ghi nhầm nguồn tin báo", "Bổ sung nội dung tin báo"],
    "tip.verified": ["Điều chỉnh phân loại vụ việc sau khi xác minh bổ sung"],
    "establishment.registered": [
      "Sai loại hình kinh doanh so với giấy phép",
      "Cập nhật tên cơ sở theo giấy chứng nhận đăng ký",
    ],
  ]
  static let voidReasons = [
    "Nhập trùng bản ghi", "Ghi nhầm địa bàn, đã nhập lại đúng đơn vị",
    "Báo cáo bị hủy theo đề nghị của đơn vị báo cáo", "Sự kiện không có thật, nhập thử",
  ]

  /// Per year: tips per establishment (relative), the share of establishments inspected, new
  /// establishments and closures (shares of the active stock). 2020–2021: COVID-19 closures.
  static let years: [Int: (tips: Double, inspected: Double, opened: Double, closed: Double)] = [
    2011: (0.85, 0.28, 0.07, 0.04), 2012: (0.90, 0.27, 0.07, 0.04),
    2013: (1.00, 0.31, 0.06, 0.04), 2014: (1.05, 0.32, 0.06, 0.04),
    2015: (1.10, 0.33, 0.06, 0.04), 2016: (1.10, 0.31, 0.06, 0.04),
    2017: (1.05, 0.31, 0.06, 0.04), 2018: (1.00, 0.30, 0.06, 0.04),
    2019: (1.00, 0.30, 0.06, 0.04), 2020: (0.60, 0.17, 0.02, 0.09),
    2021: (0.50, 0.14, 0.02, 0.10), 2022: (0.90, 0.27, 0.07, 0.04),
    2023: (1.00, 0.30, 0.06, 0.04), 2024: (1.00, 0.31, 0.05, 0.04),
    2025: (0.95, 0.29, 0.05, 0.05), 2026: (0.95, 0.25, 0.05, 0.04),
  ]

  /// Population in 2019 (millions) and a hot-spot factor (tourism, industry, border trade) by
  /// province code: where establishments and the programme's work concentrate.
  static let provinceWeights: [String: (population: Double, hot: Double)] = [
    "VN-HN": (8.05, 1.6), "VN-HG": (0.85, 0.7), "VN-CB": (0.53, 0.8), "VN-BK": (0.31, 0.8),
    "VN-TQ": (0.78, 0.8), "VN-LC": (0.73, 1.3), "VN-DB": (0.60, 0.8), "VN-LU": (0.46, 0.7),
    "VN-SL": (1.25, 0.8), "VN-YB": (0.82, 0.8), "VN-HB": (0.85, 0.9), "VN-TN": (1.29, 1.1),
    "VN-LS": (0.78, 1.1), "VN-QN": (1.32, 1.7), "VN-BG": (1.80, 1.0), "VN-PT": (1.46, 0.9),
    "VN-VP": (1.15, 1.1), "VN-BN": (1.37, 1.3), "VN-HD": (1.89, 1.0), "VN-HP": (2.03, 1.4),
    "VN-HY": (1.25, 0.9), "VN-TB": (1.86, 0.8), "VN-HM": (0.85, 0.9), "VN-ND": (1.78, 0.9),
    "VN-NB": (0.98, 1.2), "VN-TH": (3.64, 1.0), "VN-NA": (3.33, 0.9), "VN-HT": (1.29, 0.8),
    "VN-QB": (0.90, 1.0), "VN-QT": (0.63, 0.8), "VN-TT": (1.13, 1.3), "VN-DN": (1.13, 1.9),
    "VN-QM": (1.50, 1.1), "VN-QG": (1.23, 0.9), "VN-BD": (1.49, 1.1), "VN-PY": (0.96, 0.9),
    "VN-KH": (1.23, 1.8), "VN-NT": (0.59, 0.8), "VN-BT": (1.23, 1.2), "VN-KT": (0.54, 0.8),
    "VN-GL": (1.51, 0.8), "VN-DL": (1.87, 0.9), "VN-DO": (0.62, 0.7), "VN-LD": (1.30, 1.4),
    "VN-BP": (0.99, 0.9), "VN-TY": (1.17, 1.0), "VN-BU": (2.43, 1.6), "VN-DI": (3.10, 1.4),
    "VN-VT": (1.15, 1.6), "VN-HC": (8.99, 1.8), "VN-LA": (1.69, 0.9), "VN-TG": (1.76, 0.8),
    "VN-BE": (1.29, 0.8), "VN-TV": (1.01, 0.7), "VN-VL": (1.02, 0.8), "VN-DT": (1.60, 0.8),
    "VN-AG": (1.91, 1.0), "VN-KG": (1.72, 1.3), "VN-CT": (1.24, 1.3), "VN-HU": (0.73, 0.7),
    "VN-ST": (1.20, 0.8), "VN-BL": (0.91, 0.8), "VN-CM": (1.19, 0.8),
  ]
}
