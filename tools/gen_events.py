#!/usr/bin/env python3
"""Deterministic synthetic hoso events (NDJSON), for benchmarks and load tests.

    python3 tools/gen_events.py --seed 1 --count 1000000 --out tools/data/events-1M-s1.ndjson

The output is a history import: every line carries `recorded_at`, and the file is sorted by it.
It starts with the country and the 63 provinces in force from 1 August 2008 until 30 June 2025
(real names, GSO codes), then a few districts/towns/cities and communes/wards per province, then
the stock of establishments (karaoke, massage, hotels, ...), then 2011 until --end: tips and the
cases they open (verification, inspection, referral, closure), routine inspections (about 30 %
of the establishments a year), support to persons (pseudonyms), trainings, outreach, the
national and a few local plans with budgets, the 1 July 2025 merger of provinces and abolition
of districts, and about 1 % corrections and 0.2 % voids.

The same --seed and --count (and options) give the same bytes on every run and machine (for a
given major Python version). Exactly --count lines are written. Plain Python 3 standard library;
hoso itself never needs this script.

Unit codes are `VN`, `VN-XX` (a two-letter code per province, as `VN-LS` for Lạng Sơn in
DESIGN.md; `--codes iso` uses ISO 3166-2:VN instead, e.g. `VN-09`), `VN-XX-DD` for units of
district level and `VN-XX-DD-CC` for communes and wards. Event ids are `<prefix><position>`
(prefix `g<seed>-` unless --id-prefix), so files made with different seeds can share a store.
"""

import argparse
import calendar
import json
import random
import re
import sys
import time

TZ = 7 * 3600  # Vietnam local time, +07:00
DAY = 86400


def ts_local(y, m=1, d=1, hh=0, mm=0, ss=0):
    """Epoch seconds of a Vietnam local wall-clock time."""
    return calendar.timegm((y, m, d, hh, mm, ss, 0, 0, 0)) - TZ


_day_cache = {}


def fmt(ts):
    """ISO 8601 with +07:00 offset, seconds precision."""
    loc = ts + TZ
    day, sec = divmod(loc, DAY)
    ds = _day_cache.get(day)
    if ds is None:
        t = time.gmtime(day * DAY)
        ds = "%04d-%02d-%02dT" % (t.tm_year, t.tm_mon, t.tm_mday)
        _day_cache[day] = ds
    return "%s%02d:%02d:%02d+07:00" % (ds, sec // 3600, sec // 60 % 60, sec % 60)


def fmt_date(ts):
    return fmt(ts)[:10]


T_MOH = ts_local(2025, 3, 1)  # Decree 42/2025: Ministry of Health takes over from MOLISA
T_REFORM = ts_local(2025, 7, 1)  # Resolution 202/2025/QH15: 34 provinces, no districts
T_BLHS2015 = ts_local(2018, 1, 1)  # Penal Code 2015 in force
T_ND167 = ts_local(2013, 12, 30)  # Decree 167/2013/NĐ-CP in force
T_ND144 = ts_local(2022, 1, 1)  # Decree 144/2021/NĐ-CP in force
DEFAULT_END = ts_local(2026, 10, 31, 23, 59, 59)

# code, ISO 3166-2:VN, GSO code, name, centrally-run city?, seat (capital unit name),
# population 2019 (millions), hot-spot factor (tourism, industry)
PROVINCES = [
    ("HN", "HN", "01", "Hà Nội", True, "Quận Hoàn Kiếm", 8.05, 1.6),
    ("HG", "03", "02", "Hà Giang", False, "Thành phố Hà Giang", 0.85, 0.7),
    ("CB", "04", "04", "Cao Bằng", False, "Thành phố Cao Bằng", 0.53, 0.8),
    ("BK", "53", "06", "Bắc Kạn", False, "Thành phố Bắc Kạn", 0.31, 0.8),
    ("TQ", "07", "08", "Tuyên Quang", False, "Thành phố Tuyên Quang", 0.78, 0.8),
    ("LC", "02", "10", "Lào Cai", False, "Thành phố Lào Cai", 0.73, 1.3),
    ("DB", "71", "11", "Điện Biên", False, "Thành phố Điện Biên Phủ", 0.60, 0.8),
    ("LU", "01", "12", "Lai Châu", False, "Thành phố Lai Châu", 0.46, 0.7),
    ("SL", "05", "14", "Sơn La", False, "Thành phố Sơn La", 1.25, 0.8),
    ("YB", "06", "15", "Yên Bái", False, "Thành phố Yên Bái", 0.82, 0.8),
    ("HB", "14", "17", "Hòa Bình", False, "Thành phố Hòa Bình", 0.85, 0.9),
    ("TN", "69", "19", "Thái Nguyên", False, "Thành phố Thái Nguyên", 1.29, 1.1),
    ("LS", "09", "20", "Lạng Sơn", False, "Thành phố Lạng Sơn", 0.78, 1.1),
    ("QN", "13", "22", "Quảng Ninh", False, "Thành phố Hạ Long", 1.32, 1.7),
    ("BG", "54", "24", "Bắc Giang", False, "Thành phố Bắc Giang", 1.80, 1.0),
    ("PT", "68", "25", "Phú Thọ", False, "Thành phố Việt Trì", 1.46, 0.9),
    ("VP", "70", "26", "Vĩnh Phúc", False, "Thành phố Vĩnh Yên", 1.15, 1.1),
    ("BN", "56", "27", "Bắc Ninh", False, "Thành phố Bắc Ninh", 1.37, 1.3),
    ("HD", "61", "30", "Hải Dương", False, "Thành phố Hải Dương", 1.89, 1.0),
    ("HP", "HP", "31", "Hải Phòng", True, "Quận Hồng Bàng", 2.03, 1.4),
    ("HY", "66", "33", "Hưng Yên", False, "Thành phố Hưng Yên", 1.25, 0.9),
    ("TB", "20", "34", "Thái Bình", False, "Thành phố Thái Bình", 1.86, 0.8),
    ("HM", "63", "35", "Hà Nam", False, "Thành phố Phủ Lý", 0.85, 0.9),
    ("ND", "67", "36", "Nam Định", False, "Thành phố Nam Định", 1.78, 0.9),
    ("NB", "18", "37", "Ninh Bình", False, "Thành phố Ninh Bình", 0.98, 1.2),
    ("TH", "21", "38", "Thanh Hóa", False, "Thành phố Thanh Hóa", 3.64, 1.0),
    ("NA", "22", "40", "Nghệ An", False, "Thành phố Vinh", 3.33, 0.9),
    ("HT", "23", "42", "Hà Tĩnh", False, "Thành phố Hà Tĩnh", 1.29, 0.8),
    ("QB", "24", "44", "Quảng Bình", False, "Thành phố Đồng Hới", 0.90, 1.0),
    ("QT", "25", "45", "Quảng Trị", False, "Thành phố Đông Hà", 0.63, 0.8),
    ("TT", "26", "46", "Thừa Thiên Huế", False, "Thành phố Huế", 1.13, 1.3),
    ("DN", "DN", "48", "Đà Nẵng", True, "Quận Hải Châu", 1.13, 1.9),
    ("QM", "27", "49", "Quảng Nam", False, "Thành phố Tam Kỳ", 1.50, 1.1),
    ("QG", "29", "51", "Quảng Ngãi", False, "Thành phố Quảng Ngãi", 1.23, 0.9),
    ("BD", "31", "52", "Bình Định", False, "Thành phố Quy Nhơn", 1.49, 1.1),
    ("PY", "32", "54", "Phú Yên", False, "Thành phố Tuy Hòa", 0.96, 0.9),
    ("KH", "34", "56", "Khánh Hòa", False, "Thành phố Nha Trang", 1.23, 1.8),
    ("NT", "36", "58", "Ninh Thuận", False, "Thành phố Phan Rang - Tháp Chàm", 0.59, 0.8),
    ("BT", "40", "60", "Bình Thuận", False, "Thành phố Phan Thiết", 1.23, 1.2),
    ("KT", "28", "62", "Kon Tum", False, "Thành phố Kon Tum", 0.54, 0.8),
    ("GL", "30", "64", "Gia Lai", False, "Thành phố Pleiku", 1.51, 0.8),
    ("DL", "33", "66", "Đắk Lắk", False, "Thành phố Buôn Ma Thuột", 1.87, 0.9),
    ("DO", "72", "67", "Đắk Nông", False, "Thành phố Gia Nghĩa", 0.62, 0.7),
    ("LD", "35", "68", "Lâm Đồng", False, "Thành phố Đà Lạt", 1.30, 1.4),
    ("BP", "58", "70", "Bình Phước", False, "Thành phố Đồng Xoài", 0.99, 0.9),
    ("TY", "37", "72", "Tây Ninh", False, "Thành phố Tây Ninh", 1.17, 1.0),
    ("BU", "57", "74", "Bình Dương", False, "Thành phố Thủ Dầu Một", 2.43, 1.6),
    ("DI", "39", "75", "Đồng Nai", False, "Thành phố Biên Hòa", 3.10, 1.4),
    ("VT", "43", "77", "Bà Rịa - Vũng Tàu", False, "Thành phố Bà Rịa", 1.15, 1.6),
    ("HC", "SG", "79", "Hồ Chí Minh", True, "Quận 1", 8.99, 1.8),
    ("LA", "41", "80", "Long An", False, "Thành phố Tân An", 1.69, 0.9),
    ("TG", "46", "82", "Tiền Giang", False, "Thành phố Mỹ Tho", 1.76, 0.8),
    ("BE", "50", "83", "Bến Tre", False, "Thành phố Bến Tre", 1.29, 0.8),
    ("TV", "51", "84", "Trà Vinh", False, "Thành phố Trà Vinh", 1.01, 0.7),
    ("VL", "49", "86", "Vĩnh Long", False, "Thành phố Vĩnh Long", 1.02, 0.8),
    ("DT", "45", "87", "Đồng Tháp", False, "Thành phố Cao Lãnh", 1.60, 0.8),
    ("AG", "44", "89", "An Giang", False, "Thành phố Long Xuyên", 1.91, 1.0),
    ("KG", "47", "91", "Kiên Giang", False, "Thành phố Rạch Giá", 1.72, 1.3),
    ("CT", "CT", "92", "Cần Thơ", True, "Quận Ninh Kiều", 1.24, 1.3),
    ("HU", "73", "93", "Hậu Giang", False, "Thành phố Vị Thanh", 0.73, 0.7),
    ("ST", "52", "94", "Sóc Trăng", False, "Thành phố Sóc Trăng", 1.20, 0.8),
    ("BL", "55", "95", "Bạc Liêu", False, "Thành phố Bạc Liêu", 0.91, 0.8),
    ("CM", "59", "96", "Cà Mau", False, "Thành phố Cà Mau", 1.19, 0.8),
]

# Resolution 202/2025/QH15: province -> the province (by code) it is merged into on 1 July 2025
MERGED_INTO = {
    "HG": "TQ", "YB": "LC", "BK": "TN", "VP": "PT", "HB": "PT", "BG": "BN", "TB": "HY",
    "HD": "HP", "HM": "NB", "ND": "NB", "QB": "QT", "QM": "DN", "KT": "QG", "BD": "GL",
    "NT": "KH", "DO": "LD", "BT": "LD", "PY": "DL", "BU": "HC", "VT": "HC", "BP": "DI",
    "LA": "TY", "ST": "CT", "HU": "CT", "BE": "VL", "TV": "VL", "TG": "DT", "BL": "CM",
    "KG": "AG",
}

# Real names of a few lower units that appear in the source documents.
REAL_DISTRICTS = {"BG": ("Huyện Lục Nam", "district"), "HM": ("Thị xã Duy Tiên", "town")}

SYL1 = ["An", "Bình", "Phú", "Tân", "Hòa", "Thạnh", "Long", "Xuân", "Đông", "Tây", "Yên",
        "Vĩnh", "Quảng", "Thuận", "Lộc", "Mỹ", "Hưng", "Thanh", "Gia", "Kim", "Đức", "Phước",
        "Trung", "Hải", "Sơn", "Lâm", "Cẩm", "Hồng", "Minh", "Quang", "Thái", "Việt", "Hiệp",
        "Nghĩa", "Tiến", "Định", "Thịnh", "Hoàng", "Văn", "Ngọc"]
SYL2 = ["An", "Bình", "Phú", "Lợi", "Hòa", "Thành", "Lập", "Hưng", "Xuân", "Sơn", "Lộc",
        "Phong", "Thịnh", "Trung", "Đông", "Hải", "Tiến", "Mỹ", "Đức", "Hiệp", "Khánh", "Thủy",
        "Hà", "Long", "Quang", "Vinh", "Tân", "Nghĩa", "Hợp", "Châu", "Điền", "Lương"]

KINDS = ["karaoke", "massage", "hotel", "guesthouse", "bar", "dance_hall", "spa", "other"]
KIND_W = [30, 12, 12, 25, 5, 2, 8, 6]
KIND_VN = {"karaoke": "Karaoke", "massage": "Massage", "hotel": "Khách sạn",
           "guesthouse": "Nhà nghỉ", "bar": "Quán bar", "dance_hall": "Vũ trường",
           "spa": "Spa", "other": "Quán cà phê"}
KIND_VIOLATION = {"karaoke": .30, "massage": .36, "hotel": .12, "guesthouse": .24, "bar": .26,
                  "dance_hall": .32, "spa": .22, "other": .14}
EST_NAMES = ["Hoàng Gia", "Sao Mai", "Bình Minh", "Ánh Dương", "Thiên Đường", "Hoa Hồng",
             "Phương Nam", "Tuổi Xanh", "Hồng Nhung", "Biển Xanh", "Ngọc Lan", "Thanh Xuân",
             "Kim Long", "Phú Quý", "Hương Sen", "Sen Vàng", "Đại Dương", "Mặt Trời", "Hải Âu",
             "Trăng Vàng", "Như Ý", "Thảo Nguyên", "Bạch Dương", "Hoa Mai", "Tường Vy",
             "Thiên Thanh", "Song Long", "Hoàng Anh", "Minh Châu", "Phố Núi", "Hương Quê",
             "Royal", "Galaxy", "Paradise", "Diamond", "Golden", "Star", "Sunshine", "Ocean",
             "Luxury", "Queen", "Hạnh Phúc", "Lan Anh", "Thu Trang", "Phượng Hồng", "Đồng Xanh"]

TIP_SOURCES = ["citizen", "hotline", "police", "media", "worker", "other"]
TIP_SOURCE_W = [40, 20, 20, 5, 5, 10]
TIP_EST = [
    "Người dân phản ánh {p} có dấu hiệu tổ chức hoạt động mua bán dâm",
    "Tin báo qua đường dây nóng về việc nhân viên {p} bán dâm cho khách",
    "Phát hiện nghi vấn môi giới mại dâm tại {p}",
    "Báo chí phản ánh tình trạng kích dục trá hình tại {p}",
    "Người lao động tố giác chủ {p} ép buộc nhân viên tiếp khách",
    "Phản ánh nhiều người lạ thường xuyên ra vào {p} vào ban đêm",
    "Phụ huynh phản ánh học sinh làm nhân viên phục vụ tại {p}",
]
TIP_AREA = [
    "Phản ánh hoạt động mại dâm đứng đường tại khu vực {u}",
    "Nghi vấn môi giới mại dâm qua mạng xã hội trên địa bàn {u}",
    "Người dân phản ánh có đối tượng lạ dụ dỗ phụ nữ đi làm xa tại {u}",
    "Tin báo về điểm tụ tập mua bán dâm gần chợ đêm thuộc {u}",
]
TEAMS = ["interagency_178", "police", "culture", "health"]
TEAM_W = [45, 30, 15, 10]
SANCTIONS = ["warning", "fine", "suspension", "revocation"]
SANCTION_W = [30, 60, 8, 2]
SUPPORT_KINDS = ["counselling", "health", "hiv_services", "vocational_training",
                 "job_placement", "loan", "legal_aid", "allowance"]
SUPPORT_W = [20, 20, 12, 15, 10, 8, 8, 7]
OUTREACH_FORMS = ["meeting", "broadcast", "leaflet", "online", "performance"]
OUTREACH_FORM_W = [40, 15, 20, 15, 10]
OUTREACH_REACH = {"meeting": (30, 300), "broadcast": (1000, 50000), "leaflet": (200, 5000),
                  "online": (500, 20000), "performance": (100, 2000)}
OUTREACH_AUD = ["residents", "students", "establishment_workers", "staff"]
OUTREACH_AUD_W = [50, 20, 20, 10]
TRAIN_AUD = ["staff", "collaborators", "police", "teachers"]
TRAIN_AUD_W = [40, 35, 15, 10]

# year factors: tips, inspection rate, new establishments, closures
YEARS = {
    2011: (.85, .28, .07, .04), 2012: (.90, .30, .07, .04), 2013: (1.0, .31, .06, .04),
    2014: (1.05, .32, .06, .04), 2015: (1.10, .33, .06, .04), 2016: (1.10, .31, .06, .04),
    2017: (1.05, .31, .06, .04), 2018: (1.00, .30, .06, .04), 2019: (1.00, .30, .06, .04),
    2020: (.60, .17, .02, .09), 2021: (.50, .14, .02, .10), 2022: (.90, .27, .07, .04),
    2023: (1.00, .30, .06, .04), 2024: (1.00, .31, .05, .04), 2025: (.95, .29, .05, .05),
    2026: (.95, .25, .05, .04),
}

# (plan, title, issuer, level, adopted, period_start, period_end, basis, targets, province)
PLANS = [
    ("679/QĐ-TTg", "Chương trình hành động phòng, chống mại dâm giai đoạn 2011 - 2015",
     "Thủ tướng Chính phủ", "national", (2011, 5, 10), "2011-01-01", "2015-12-31", None,
     [("communes_outreach", 100, None), ("staff_trained", 100, None),
      ("repeat_offenders_treated", 100, None), ("healthy_communes", 95, 2015)], None),
    ("1513/QĐ-UBND", "Kế hoạch phòng, chống mại dâm trên địa bàn tỉnh Bắc Kạn giai đoạn 2011 - 2015",
     "Ủy ban nhân dân tỉnh Bắc Kạn", "province", (2011, 8, 18), "2011-01-01", "2015-12-31",
     "679/QĐ-TTg",
     [("communes_outreach", 100, None), ("healthy_communes", 95, 2015),
      ("repeat_offenders_treated", 100, None), ("staff_trained", 100, None)], "BK"),
    ("361/QĐ-TTg", "Chương trình phòng, chống mại dâm giai đoạn 2016 - 2020",
     "Thủ tướng Chính phủ", "national", (2016, 3, 7), "2016-01-01", "2020-12-31", None,
     [("communes_outreach", 70, None), ("tips_handled_in_time", 100, None),
      ("establishments_inspected", 30, None), ("sex_workers_supported", 50, None),
      ("staff_trained", 70, None)], None),
    ("1629/QĐ-TTg", "Chương trình phòng, chống mại dâm giai đoạn 2021 - 2025",
     "Thủ tướng Chính phủ", "national", (2021, 9, 28), "2021-01-01", "2025-12-31", None,
     [("communes_outreach", 70, None), ("establishment_workers_reached", 70, None),
      ("tips_handled_in_time", 100, None), ("establishments_inspected", 30, None),
      ("sex_workers_supported", 60, None), ("staff_trained", 70, None)], None),
    ("40/KH-UBND", "Kế hoạch thực hiện Chương trình phòng, chống mại dâm tỉnh Kon Tum giai đoạn 2021 - 2025",
     "Ủy ban nhân dân tỉnh Kon Tum", "province", (2022, 1, 5), "2022-01-01", "2025-12-31",
     "1629/QĐ-TTg",
     [("communes_outreach", 70, None), ("establishment_workers_reached", 70, None),
      ("communes_planning", 100, None), ("communes_integrating", 50, None),
      ("tips_handled_in_time", 100, None), ("establishments_inspected", 30, None),
      ("establishments_inspected_once", 100, 2025), ("sex_workers_supported", 60, None),
      ("staff_trained", 70, None)], "KT"),
    ("48/KH-UBND", "Kế hoạch phòng, chống mại dâm tỉnh Lạng Sơn năm 2023",
     "Ủy ban nhân dân tỉnh Lạng Sơn", "province", (2023, 2, 27), "2023-01-01", "2023-12-31",
     "1629/QĐ-TTg",
     [("communes_outreach", 100, 2023), ("establishments_inspected", 30, 2023),
      ("sex_workers_supported", 100, 2023), ("staff_trained", 30, 2023)], "LS"),
    ("91/KH-UBND", "Kế hoạch phòng, chống mại dâm tỉnh Ninh Bình năm 2026",
     "Ủy ban nhân dân tỉnh Ninh Bình", "province", (2025, 10, 2), "2026-01-01", "2026-12-31",
     None,
     [("residential_groups_reached", 100, 2026), ("establishment_workers_reached", 70, 2026),
      ("staff_trained", 100, 2026), ("tips_handled_in_time", 100, 2026),
      ("establishments_inspected", 20, 2026)], "NB"),
]
# Bắc Kạn, Decision 1513/QĐ-UBND, million VND per activity line and year 2011..2015
BK_BUDGET = [
    ("Thông tin, tuyên truyền, giáo dục phòng, chống mại dâm", [50, 150, 150, 150, 100]),
    ("Kiểm tra, thanh tra, xử lý vi phạm về mại dâm", [50, 100, 100, 100, 100]),
    ("Chữa trị, dạy nghề, tạo việc làm, tái hòa nhập cộng đồng cho người bán dâm",
     [50, 150, 150, 150, 150]),
    ("Xây dựng xã, phường, thị trấn lành mạnh không có tệ nạn mại dâm", [50, 100, 100, 100, 50]),
    ("Đào tạo, nâng cao năng lực cán bộ; kiểm tra, giám sát thực hiện Chương trình",
     [20, 80, 80, 100, 120]),
]

CORRECTION_REASONS = {
    "inspection.done": ["Nhập sai số tiền phạt so với quyết định xử phạt",
                        "Điều chỉnh hình thức xử lý theo quyết định của Chủ tịch UBND"],
    "support.provided": ["Điều chỉnh số tiền hỗ trợ theo chứng từ chi",
                         "Sai tên đơn vị cung cấp dịch vụ"],
    "outreach.held": ["Cập nhật số người được tuyên truyền theo báo cáo của UBND xã"],
    "training.held": ["Điều chỉnh số người tham dự theo danh sách ký nhận"],
    "tip.received": ["Ghi nhầm nguồn tin báo", "Bổ sung nội dung tin báo"],
    "tip.verified": ["Điều chỉnh phân loại vụ việc sau khi xác minh bổ sung"],
    "budget.allocated": ["Điều chỉnh dự toán theo quyết định giao bổ sung kinh phí"],
    "establishment.registered": ["Sai loại hình kinh doanh so với giấy phép",
                                 "Cập nhật tên cơ sở theo giấy chứng nhận đăng ký"],
}
VOID_REASONS = ["Nhập trùng bản ghi", "Ghi nhầm địa bàn, đã nhập lại đúng đơn vị",
                "Báo cáo bị hủy theo đề nghị của đơn vị báo cáo", "Sự kiện không có thật, nhập thử"]
CLOSE_REASONS = ["Ngừng kinh doanh", "Chuyển đổi ngành nghề kinh doanh",
                 "Bị thu hồi giấy phép", "Hết hạn hợp đồng thuê mặt bằng"]

DIGIT_RUN = re.compile(r"(?<![0-9])(?:[0-9]{9}|[0-9]{12})(?![0-9])")


class Unit:
    __slots__ = ("code", "name", "level", "parent", "prov", "leaves")

    def __init__(self, code, name, level, parent, prov):
        self.code, self.name, self.level, self.parent, self.prov = code, name, level, parent, prov
        self.leaves = []


class Prov:
    __slots__ = ("key", "code", "gso", "name", "central", "seat", "pop", "hot", "weight",
                 "display", "districts", "leaves", "now", "ests", "persons", "case_no", "est_no")


class Est:
    __slots__ = ("eid", "kind", "name", "unit", "avail", "closed")


class Gen:
    def __init__(self, args, scale_est=None):
        self.a = args
        self.r = random.Random(args.seed)
        self.end = args.end
        self.events = []  # [rec, idx, occ, type, unit, case, actor, data, target]
        self.n = 0
        self.scale_est = scale_est

    # ---------------------------------------------------------------- helpers
    def emit(self, rec, occ, typ, unit, case, actor, data, target=None):
        ev = [rec, self.n, occ, typ, unit, case, actor, data, target]
        self.n += 1
        self.events.append(ev)
        return ev

    def entry_lag(self):
        """Delay between an act and its data entry: minutes to a few weeks."""
        r = self.r.random()
        if r < 0.55:
            return self.r.randint(600, 8 * 3600)
        if r < 0.90:
            return self.r.randint(8 * 3600, 5 * DAY)
        return self.r.randint(5 * DAY, 30 * DAY)

    def work_time(self, t0, t1):
        """A working-hours local time in [t0, t1) (falls back to any time if the span is short)."""
        if t1 - t0 < 2 * DAY:
            return self.r.randint(t0, max(t0, t1 - 1))
        ts = self.r.randint(t0, t1 - 1)
        loc = ts + TZ
        day = loc // DAY
        wd = (day + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
        if wd >= 5 and self.r.random() < 0.75:
            day -= wd - 4  # back to Friday
        t = day * DAY - TZ + self.r.randint(7 * 3600 + 1800, 17 * 3600 + 1800)
        return min(max(t, t0), t1 - 1)

    def wchoice(self, items, weights):
        return self.r.choices(items, weights)[0]

    def pseudonym(self):
        while True:
            p = "P-%016x" % self.r.getrandbits(64)
            if not DIGIT_RUN.search(p):
                return p

    def place_name(self, used):
        while True:
            n = self.r.choice(SYL1) + " " + self.r.choice(SYL2)
            if n not in used and n.split()[0] != n.split()[1]:
                used.add(n)
                return n

    def dept(self, p, t):
        """The provincial department in charge at time t."""
        q = p.now if t >= T_REFORM else p
        return ("Sở LĐTBXH " if t < T_MOH else "Sở Y tế ") + q.display

    def unit_actor(self, u, p, t):
        if u is None or u.level in ("province", "country"):
            return self.dept(p, t)
        if u.level in ("commune", "ward"):
            return "UBND " + u.name[0].lower() + u.name[1:]
        if t < T_MOH:
            return "Phòng LĐTBXH " + u.name[0].lower() + u.name[1:]
        return "Phòng Văn hóa - Xã hội " + u.name[0].lower() + u.name[1:]

    def ok(self, rec):
        return rec <= self.end

    # ---------------------------------------------------------------- units
    def build_units(self, tier):
        codes_iso = self.a.codes == "iso"
        self.provs = []
        self.units = {}
        bykey = {}
        for key, iso, gso, name, central, seat, pop, hot in PROVINCES:
            p = Prov()
            p.key, p.code, p.gso, p.name, p.central, p.seat = (
                key, "VN-" + (iso if codes_iso else key), gso, name, central, seat)
            p.pop, p.hot = pop, hot
            p.weight = pop * hot
            p.display = ("thành phố " if central else "tỉnh ") + name
            p.districts, p.leaves, p.ests, p.persons = [], [], [], []
            p.case_no, p.est_no = {}, 0
            self.provs.append(p)
            bykey[key] = p
        for p in self.provs:
            p.now = bykey[MERGED_INTO[p.key]] if p.key in MERGED_INTO else p
        self.bykey = bykey
        self.by_code = {p.code: p for p in self.provs}
        n_dist, n_comm = {0: (0, 0), 1: (0, 2), 2: (2, 3), 3: (4, 4)}[tier]
        for p in self.provs:
            if tier == 0:
                p.leaves = [Unit(p.code, p.name, "province", "VN", p)]
                continue
            used = set()
            seat_level = "district" if p.central else "city"
            specs = [(p.seat, seat_level)]
            if n_dist and p.key in REAL_DISTRICTS:
                specs.append(REAL_DISTRICTS[p.key])
                used.add(REAL_DISTRICTS[p.key][0].split(" ", 1 if "Huyện" in REAL_DISTRICTS[p.key][0] else 2)[-1])
            while len(specs) < 1 + n_dist:
                lvl = "town" if self.r.random() < 0.12 else "district"
                nm = self.place_name(used)
                if lvl == "town":
                    specs.append(("Thị xã " + nm, "town"))
                else:
                    specs.append((("Quận " if p.central and self.r.random() < .4 else "Huyện ") + nm,
                                  "district"))
            for i, (nm, lvl) in enumerate(specs, 1):
                d = Unit("%s-%02d" % (p.code, i), nm, lvl, p.code, p)
                urban = lvl in ("city", "town") or nm.startswith("Quận")
                for j in range(1, n_comm + 1):
                    cn = self.place_name(used)
                    if urban:
                        c = Unit("%s-%02d" % (d.code, j), "Phường " + cn, "ward", d.code, p)
                    else:
                        c = Unit("%s-%02d" % (d.code, j), "Xã " + cn, "commune", d.code, p)
                    d.leaves.append(c)
                    p.leaves.append(c)
                p.districts.append(d)
                self.units[d.code] = d

    def emit_units(self):
        t = ts_local(2010, 12, 1, 8, 0, 0)
        occ_vn = ts_local(2004, 1, 1)  # GSO codes, Decision 124/2004/QĐ-TTg
        occ_63 = ts_local(2008, 8, 1)  # Hà Tây merged into Hà Nội: 63 provinces
        self.emit(t, occ_vn, "unit.established", "VN", None, "Tổng cục Thống kê",
                  {"name": "Việt Nam", "level": "country"})
        for p in self.provs:
            t += self.r.randint(1, 20)
            self.emit(t, occ_63, "unit.established", p.code, None, "Tổng cục Thống kê",
                      {"name": p.name, "level": "province", "parent": "VN", "gso_code": p.gso})
        for p in self.provs:
            for d in p.districts:
                t += self.r.randint(1, 20)
                self.emit(t, occ_63, "unit.established", d.code, None, "Tổng cục Thống kê",
                          {"name": d.name, "level": d.level, "parent": p.code})
                for c in d.leaves:
                    t += self.r.randint(1, 20)
                    self.emit(t, occ_63, "unit.established", c.code, None, "Tổng cục Thống kê",
                              {"name": c.name, "level": c.level, "parent": d.code})
        self.t_units_done = t

    def emit_reform(self):
        """1 July 2025: 29 provinces merged into others; district-level units abolished,
        communes and wards now directly under a province."""
        t = T_REFORM + 8 * 3600
        if not self.ok(t + 100000):
            return
        actor = "Quốc hội"
        for p in self.provs:
            for d in p.districts:
                for c in d.leaves:
                    t += self.r.randint(1, 5)
                    self.emit(t, T_REFORM, "unit.moved", c.code, None, actor,
                              {"parent": p.now.code})
                t += self.r.randint(1, 5)
                self.emit(t, T_REFORM, "unit.merged", d.code, None, actor, {"into": p.now.code})
        for p in self.provs:
            if p.now is not p:
                t += self.r.randint(1, 5)
                self.emit(t, T_REFORM, "unit.merged", p.code, None, actor, {"into": p.now.code})

    # ---------------------------------------------------------------- plans
    def emit_plans(self):
        for (plan, title, issuer, level, adopted, ps, pe, basis, targets, pk) in PLANS:
            occ = ts_local(*adopted) + 9 * 3600
            rec = occ + self.r.randint(DAY, 10 * DAY)
            if not self.ok(rec):
                continue
            unit = self.bykey[pk].code if pk else "VN"
            actor = issuer
            data = {"plan": plan, "title": title, "issuer": issuer, "level": level,
                    "period_start": ps, "period_end": pe}
            if basis:
                data["basis"] = basis
            tl = []
            for ind, pct, yr in targets:
                t = {"indicator": ind, "min_percent": pct}
                if yr:
                    t["year"] = yr
                tl.append(t)
            data["targets"] = tl
            self.emit(rec, occ, "plan.adopted", unit, None, actor, data)
            if plan == "1513/QĐ-UBND":
                for line, amounts in BK_BUDGET:
                    for i, amt in enumerate(amounts):
                        y = 2011 + i
                        bocc = max(occ, ts_local(y, 1, 15, 9))
                        brec = max(rec + 1, bocc + self.r.randint(DAY, 20 * DAY))
                        self.emit(brec, bocc, "budget.allocated", unit, None,
                                  "Sở Tài chính tỉnh Bắc Kạn",
                                  {"plan": plan, "line": line, "year": y,
                                   "amount_million_vnd": amt})
            elif plan == "48/KH-UBND":
                for line, amt in (("Tuyên truyền, truyền thông", 120), ("Tập huấn cán bộ", 80.5),
                                  ("Kiểm tra liên ngành", 95)):
                    self.emit(rec + self.r.randint(DAY, 9 * DAY), occ, "budget.allocated", unit,
                              None, "Sở Tài chính tỉnh Lạng Sơn",
                              {"plan": plan, "line": line, "year": 2023,
                               "amount_million_vnd": amt})

    # ---------------------------------------------------------------- establishments
    def new_est(self, p, reg_occ, reg_rec, u=None):
        e = Est()
        p.est_no += 1
        e.eid = "CS-%s-%05d" % (p.code[3:], p.est_no)
        e.kind = self.wchoice(KINDS, KIND_W)
        e.name = KIND_VN[e.kind] + " " + self.r.choice(EST_NAMES)
        e.unit = u or self.r.choice(p.leaves)
        e.avail = reg_rec + DAY
        e.closed = None
        data = {"establishment": e.eid, "kind": e.kind}
        if self.r.random() < 0.9:
            data["name"] = e.name
        dist = self.units.get(e.unit.code.rsplit("-", 1)[0]) if e.unit.level in ("commune", "ward") else None
        if dist is not None and reg_occ < T_REFORM:
            actor = "Phòng Văn hóa - Thông tin " + dist.name[0].lower() + dist.name[1:]
        else:
            actor = self.dept(p, reg_occ).replace("Sở LĐTBXH", "Sở VHTTDL").replace("Sở Y tế", "Sở VHTTDL")
        self.emit(reg_rec, reg_occ, "establishment.registered", e.unit.code, None, actor, data)
        p.ests.append(e)
        return e

    def emit_initial_ests(self, total):
        wsum = sum(p.weight for p in self.provs)
        t = ts_local(2010, 12, 15, 8, 0, 0)
        span = ts_local(2010, 12, 31, 17, 0, 0) - t
        quota = [max(1, round(total * p.weight / wsum)) for p in self.provs]
        n = sum(quota)
        step = max(1, span // max(1, n))
        for p, q in zip(self.provs, quota):
            for _ in range(q):
                t += self.r.randint(1, 2 * step) if step > 1 else 1
                occ = self.r.randint(ts_local(2004, 1, 1), ts_local(2010, 11, 30))
                self.new_est(p, occ, t)

    # ---------------------------------------------------------------- the years
    def case_id(self, p, y):
        n = p.case_no.get(y, 0) + 1
        p.case_no[y] = n
        return "C-%s-%d-%05d" % (p.code[3:], y, n)

    def inspection(self, p, e, occ, rec, case=None, vio_p=None):
        r = self.r
        team = self.wchoice(TEAMS, TEAM_W) if case is None else r.choice(["interagency_178", "police"])
        if vio_p is None:
            vio_p = KIND_VIOLATION[e.kind] * (1.25 - 0.03 * (time.gmtime(occ).tm_year - 2011))
        data = {"establishment": e.eid, "team": team}
        if r.random() < vio_p:
            data["result"] = "violation"
            s = self.wchoice(SANCTIONS, SANCTION_W)
            data["sanction"] = s
            if s == "fine" or (s in ("suspension", "revocation") and r.random() < 0.7):
                hi = 40 if occ >= T_ND144 else (30 if occ >= T_ND167 else 20)
                data["fine_vnd"] = r.randint(2, 2 * hi) * 500000
        else:
            data["result"] = "compliant"
            data["sanction"] = "none"
        if team == "interagency_178":
            actor = "Đoàn kiểm tra liên ngành 178 " + (p.now if occ >= T_REFORM else p).display
        elif team == "police":
            actor = "Công an " + (p.now if occ >= T_REFORM else p).display
        elif team == "culture":
            actor = "Sở VHTTDL " + (p.now if occ >= T_REFORM else p).display
        else:
            actor = "Sở Y tế " + (p.now if occ >= T_REFORM else p).display
        return self.emit(rec, occ, "inspection.done", e.unit.code, case, actor, data)

    def tip_case(self, p, y, occ, ests):
        r = self.r
        e = None
        if ests and r.random() < 0.8:
            e = r.choice(ests)
            if e.closed is not None and occ >= e.closed[0] - DAY:
                e = None
            elif occ < e.avail:
                occ = e.avail + r.randint(0, 5 * DAY)
        u = e.unit if e else r.choice(p.leaves)
        rec = occ + self.entry_lag() // 4
        if not self.ok(rec):
            return
        case = self.case_id(p, y)
        src = self.wchoice(TIP_SOURCES, TIP_SOURCE_W)
        data = {"source": src}
        if e:
            data["establishment"] = e.eid
        if r.random() < 0.75:
            if e:
                data["summary"] = r.choice(TIP_EST).format(p=e.name[0].lower() + e.name[1:] if e.kind in ("hotel", "guesthouse", "bar", "dance_hall", "other") else e.name)
            else:
                data["summary"] = r.choice(TIP_AREA).format(u=u.name.lower() if u.level in ("commune", "ward") else u.name)
        actor = self.unit_actor(u, p, occ) if src != "police" else "Công an " + (p.now if occ >= T_REFORM else p).display
        self.emit(rec, occ, "tip.received", u.code, case, actor, data)
        # verification: mostly within a week ("handled in time"), a few late, some never
        if r.random() < 0.03:
            return
        lag = r.randint(2 * 3600, 7 * DAY) if r.random() < 0.85 else r.randint(7 * DAY, 45 * DAY)
        vocc = occ + lag
        vrec = max(vocc + self.entry_lag() // 3, rec + 1)
        if not self.ok(vrec):
            return
        subst = r.random() < max(0.30, 0.55 - 0.012 * (y - 2011))
        vdata = {"finding": "substantiated" if subst else "unfounded"}
        if subst:
            cls = self.wchoice(["administrative", "criminal", "trafficking", "minor"], [75, 15, 3, 7])
            vdata["classification"] = cls
        elif r.random() < 0.05:
            vdata["classification"] = "administrative"
        vactor = self.unit_actor(u, p, vocc)
        self.emit(vrec, vocc, "tip.verified", u.code, case, vactor, vdata)
        prev_occ, prev_rec = vocc, vrec
        outcome = "unfounded"
        if subst:
            cls = vdata["classification"]
            if e is not None and r.random() < 0.7:
                iocc = prev_occ + r.randint(3600, 5 * DAY)
                irec = max(iocc + self.entry_lag() // 3, prev_rec + 1)
                if not self.ok(irec):
                    return
                ev = self.inspection(p, e, iocc, irec, case=case, vio_p=0.75)
                prev_occ, prev_rec = iocc, irec
                outcome = "sanctioned" if ev[7]["result"] == "violation" else "no_violation_found"
            else:
                outcome = "sanctioned"
            if cls in ("criminal", "trafficking") or r.random() < 0.35:
                if cls in ("criminal", "trafficking"):
                    to = self.wchoice(["police", "procuracy"], [80, 20])
                elif cls == "minor":
                    to = self.wchoice(["social", "women_union", "police"], [40, 30, 30])
                else:
                    to = self.wchoice(["police", "social", "health"], [50, 30, 20])
                rdata = {"referred_to": to}
                if cls == "criminal":
                    art = r.choice(["327", "328"]) if prev_occ >= T_BLHS2015 else r.choice(["254", "255"])
                    rdata["basis"] = ("BLHS 2015 Đ." if prev_occ >= T_BLHS2015 else "BLHS 1999 Đ.") + art
                elif cls == "trafficking":
                    rdata["basis"] = "BLHS 2015 Đ.150" if prev_occ >= T_BLHS2015 else "BLHS 1999 Đ.119"
                elif cls == "administrative" and r.random() < 0.5:
                    rdata["basis"] = ("NĐ 144/2021/NĐ-CP" if prev_occ >= T_ND144 else
                                      "NĐ 167/2013/NĐ-CP" if prev_occ >= T_ND167 else "NĐ 73/2010/NĐ-CP")
                rocc = prev_occ + r.randint(DAY, 20 * DAY)
                rrec = max(rocc + self.entry_lag() // 3, prev_rec + 1)
                if not self.ok(rrec):
                    return
                self.emit(rrec, rocc, "case.referred", u.code, case, self.unit_actor(u, p, rocc), rdata)
                prev_occ, prev_rec = rocc, rrec
                if cls in ("criminal", "trafficking"):
                    outcome = self.wchoice(["prosecuted", "transferred", "no_further_action"], [60, 30, 10])
                elif to in ("social", "women_union", "health"):
                    outcome = "supported"
        if r.random() < 0.1:
            return  # left open
        cocc = prev_occ + (r.randint(DAY, 10 * DAY) if outcome == "unfounded" else r.randint(5 * DAY, 180 * DAY))
        crec = max(cocc + self.entry_lag() // 3, prev_rec + 1)
        if not self.ok(crec):
            return
        self.emit(crec, cocc, "case.closed", u.code, case, self.unit_actor(u, p, cocc), {"outcome": outcome})

    def support(self, p, occ):
        r = self.r
        if p.persons and r.random() < 0.6:
            person, u = r.choice(p.persons[-200:])
        else:
            person, u = self.pseudonym(), r.choice(p.leaves)
            p.persons.append((person, u))
        rec = occ + self.entry_lag()
        if not self.ok(rec):
            return
        kind = self.wchoice(SUPPORT_KINDS, SUPPORT_W)
        data = {"person": person, "kind": kind}
        prov = p.now if occ >= T_REFORM else p
        if r.random() < 0.85:
            data["provider"] = {
                "counselling": "Trung tâm Công tác xã hội " + prov.display,
                "health": "Trung tâm Y tế " + (u.name if u.level not in ("commune", "ward") else prov.display),
                "hiv_services": "Trung tâm Kiểm soát bệnh tật " + prov.display,
                "vocational_training": "Trường Cao đẳng nghề " + prov.name,
                "job_placement": "Trung tâm Dịch vụ việc làm " + prov.display,
                "loan": "Ngân hàng Chính sách xã hội " + prov.display,
                "legal_aid": "Trung tâm Trợ giúp pháp lý nhà nước " + prov.display,
                "allowance": "Hội Liên hiệp Phụ nữ " + prov.display,
            }[kind]
        amt = {"vocational_training": (3, 12), "loan": (20, 100), "allowance": (1, 6)}.get(kind)
        if amt and r.random() < 0.9:
            data["amount_vnd"] = r.randint(*amt) * 500000
        self.emit(rec, occ, "support.provided", u.code, None, self.unit_actor(u, p, occ), data)

    def training(self, p, occ):
        r = self.r
        rec = occ + self.entry_lag()
        if not self.ok(rec):
            return
        u = None
        if occ < T_REFORM and p.districts and r.random() < 0.5:
            u = r.choice(p.districts)
        elif occ >= T_REFORM and p.districts and r.random() < 0.4:
            u = r.choice(p.now.leaves or p.leaves)
        if u is None:
            code, level, actor = p.now.code if occ >= T_REFORM else p.code, "province", self.dept(p, occ)
        else:
            code, level, actor = u.code, "commune" if u.level in ("commune", "ward") else "district", self.unit_actor(u, p, occ)
        data = {"audience": self.wchoice(TRAIN_AUD, TRAIN_AUD_W), "participants": r.randint(20, 150),
                "level": level}
        self.emit(rec, occ, "training.held", code, None, actor, data)

    def outreach(self, p, occ):
        r = self.r
        rec = occ + self.entry_lag()
        if rec > self.end:
            rec = self.r.randint(occ, self.end)
        u = r.choice(p.leaves)
        form = self.wchoice(OUTREACH_FORMS, OUTREACH_FORM_W)
        data = {"form": form, "audience": self.wchoice(OUTREACH_AUD, OUTREACH_AUD_W),
                "reached": r.randint(*OUTREACH_REACH[form])}
        self.emit(rec, occ, "outreach.held", u.code, None, self.unit_actor(u, p, occ), data)

    def simulate_years(self, sup_rate=0.10):
        r = self.r
        end = self.end
        self.py_weights = []  # (prov, year_start, year_end, active) for outreach filler
        for y in range(2011, 2027):
            ys, ye = ts_local(y), ts_local(y + 1)
            if ys > end:
                break
            ye_eff = min(ye, end - 40 * DAY)
            if ye_eff <= ys:
                break
            frac = (ye_eff - ys) / (ye - ys)
            tip_f, insp_rate, grow, close = YEARS.get(y, YEARS[2026])
            for p in self.provs:
                active = [e for e in p.ests if e.closed is None and e.avail < ye_eff]
                na = len(active)
                self.py_weights.append((p, ys, ye_eff, max(na, 1)))
                # closures and new registrations
                for e in r.sample(active, min(na, round(na * close * frac * r.uniform(.7, 1.3)))):
                    cocc = self.work_time(max(ys, e.avail), ye_eff)
                    crec = cocc + self.entry_lag()
                    if crec > end:
                        continue
                    e.closed = (cocc, crec)
                    data = {"establishment": e.eid}
                    if r.random() < 0.6:
                        data["reason"] = r.choice(CLOSE_REASONS)
                    self.emit(crec, cocc, "establishment.closed", e.unit.code, None,
                              self.dept(p, cocc), data)
                for _ in range(round(na * grow * frac * r.uniform(.7, 1.3))):
                    occ = self.work_time(ys, ye_eff)
                    rec = occ + self.entry_lag()
                    if rec <= end:
                        self.new_est(p, occ, rec)
                # routine inspections: a share of the establishments active at year start
                rate = insp_rate * r.uniform(.75, 1.25)
                for e in r.sample(active, min(na, round(na * rate * frac))):
                    t0 = max(ys, e.avail)
                    t1 = ye_eff if e.closed is None else min(ye_eff, e.closed[0])
                    if t1 - t0 < DAY:
                        continue
                    occ = self.work_time(t0, t1)
                    rec = occ + self.entry_lag()
                    if rec <= end:
                        self.inspection(p, e, occ, rec)
                # tips and their cases
                ntips = round(max(0.3, na * 0.12 * tip_f) * frac * r.uniform(.6, 1.4))
                for occ in sorted(self.work_time(ys, ye_eff) for _ in range(ntips)):
                    self.tip_case(p, y, occ, active)
                # support to persons, growing over the years
                nsup = round(max(0.2, na * sup_rate * (0.6 + 0.05 * (y - 2011))) * frac * r.uniform(.7, 1.3))
                for _ in range(nsup):
                    self.support(p, self.work_time(ys, ye_eff))
                # trainings: a few a year
                for _ in range(round(max(0.4, na * 0.01) * frac * r.uniform(.5, 1.5))):
                    self.training(p, self.work_time(ys, ye_eff))

    def fill_outreach(self, n):
        r = self.r
        if n <= 0:
            return
        pw = self.py_weights
        weights = [w for (_, _, _, w) in pw]
        picks = r.choices(range(len(pw)), weights, k=n)
        for i in picks:
            p, ys, ye, _ = pw[i]
            self.outreach(p, self.work_time(ys, ye))

    # ---------------------------------------------------------------- corrections
    def unit_at(self, code, t):
        """The unit to report at, at time t: after the reform, not a district or merged province."""
        if t < T_REFORM or self.a.no_reform or not self.units:
            return code
        d = self.units.get(code)
        if d is not None:
            return d.prov.now.code
        p = self.by_code.get(code)
        if p is not None:
            return p.now.code
        return code

    def corrections(self, n_corr, n_void):
        r = self.r
        end = self.end
        cands = [ev for ev in self.events
                 if ev[3] in CORRECTION_REASONS and ev[0] < end - 2 * DAY
                 and not (ev[3] == "tip.verified" and ev[7]["finding"] != "substantiated")]
        vcands = [ev for ev in self.events
                  if ev[3] in ("outreach.held", "training.held", "support.provided",
                               "inspection.done") and ev[5] is None and ev[0] < end - 2 * DAY]
        if not cands:
            cands = vcands
        chosen = set()
        made = []
        for _ in range(n_corr):
            if not cands:
                break
            for _try in range(20):
                t = r.choice(cands)
                if t[1] not in chosen:
                    break
            chosen.add(t[1])
            typ, d = t[3], t[7]
            if typ == "inspection.done":
                if "fine_vnd" in d:
                    ch = {"fine_vnd": max(500000, d["fine_vnd"] + r.choice([-1, 1]) * r.randint(1, 10) * 500000)}
                elif d["result"] == "violation":
                    ch = {"sanction": "fine" if d["sanction"] == "warning" else "warning"}
                else:
                    ch = {"team": r.choice([x for x in TEAMS if x != d["team"]])}
            elif typ == "support.provided":
                ch = ({"amount_vnd": r.randint(1, 40) * 500000} if "amount_vnd" in d
                      else {"provider": "Hội Liên hiệp Phụ nữ xã"})
            elif typ == "outreach.held":
                ch = {"reached": max(1, int(d["reached"] * r.uniform(.5, 1.5)))}
            elif typ == "training.held":
                ch = {"participants": max(5, d["participants"] + r.randint(-15, 15))}
            elif typ == "tip.received":
                ch = {"source": r.choice([x for x in TIP_SOURCES if x != d["source"]])}
            elif typ == "tip.verified":
                ch = {"classification": r.choice([x for x in ("administrative", "criminal", "minor")
                                                  if x != d.get("classification")])}
            elif typ == "budget.allocated":
                ch = {"amount_million_vnd": d["amount_million_vnd"] + r.choice([10, 20, 25, -10])}
                ch["amount_million_vnd"] = max(0, ch["amount_million_vnd"])
            else:  # establishment.registered
                ch = ({"kind": r.choice([k for k in KINDS if k != d["kind"]])} if r.random() < .5
                      else {"name": KIND_VN[d["kind"]] + " " + r.choice(EST_NAMES)})
            rec = min(end, t[0] + r.randint(3600, 90 * DAY))
            occ = rec - r.randint(0, min(3600, rec - t[2]))
            made.append((rec, occ, "event.corrected", self.unit_at(t[4], occ), t[5], t[6],
                         {"target": None, "changes": ch, "reason": r.choice(CORRECTION_REASONS[typ])}, t))
        for _ in range(n_void):
            if not vcands:
                break
            for _try in range(20):
                t = r.choice(vcands)
                if t[1] not in chosen:
                    break
            if t[1] in chosen:
                continue
            chosen.add(t[1])
            rec = min(end, t[0] + r.randint(600, 30 * DAY))
            occ = rec - r.randint(0, min(600, rec - t[2]))
            made.append((rec, occ, "event.voided", self.unit_at(t[4], occ), t[5], t[6],
                         {"target": None, "reason": r.choice(VOID_REASONS)}, t))
        for m in made:
            self.emit(*m)

    # ---------------------------------------------------------------- driver
    def run(self, count, est_total):
        tier = 3 if count >= 100000 else 2 if count >= 10000 else 1 if count >= 2000 else 0
        self.build_units(tier)
        self.emit_units()
        if count >= 1000:
            self.emit_plans()
        self.n_fixed = len(self.events)
        self.emit_initial_ests(est_total)
        self.simulate_years()
        n0 = len(self.events)
        if not self.a.no_reform and tier > 0:
            self.emit_reform()
        self.n_fixed += len(self.events) - n0  # the reform does not scale with establishments


def generate(args):
    count = args.count
    n_corr, n_void = round(count * 0.01), round(count * 0.002)
    # Calibrate the stock of establishments so that outreach (the filler) is ~5 % of the
    # events: a small pilot run measures how many events one establishment brings.
    pilot_est = max(300, min(5000, count // 16))
    pilot = Gen(args)
    pilot.run(count, pilot_est)
    per_est = (len(pilot.events) - pilot.n_fixed) / pilot_est
    budget = max(0, count - pilot.n_fixed - n_corr - n_void)
    est_total = max(1, int(budget * 0.93 / per_est))
    for _attempt in range(3):
        g = Gen(args)
        g.run(count, est_total)
        over = len(g.events) + n_corr + n_void - count
        if over <= 0 or est_total <= 1:
            break
        est_total = max(1, int(est_total * (budget * 0.93) / max(1, len(g.events) - g.n_fixed)))
    g.fill_outreach(count - len(g.events) - n_corr - n_void)
    g.corrections(n_corr, n_void)
    ev = g.events
    ev.sort(key=lambda e: (e[0], e[1]))
    if len(ev) > count:  # rare (tiny counts): keep a prefix, which keeps every reference valid
        del ev[count:]
    return ev


def write(events, out, prefix):
    width = max(7, len(str(len(events))))
    idfmt = prefix + "%0" + str(width) + "d"
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    buf = []
    for i, e in enumerate(events, 1):
        rec, _, occ, typ, unit, case, actor, data, target = e
        eid = idfmt % i
        e[1] = eid  # the id, for corrections that point here
        if target is not None:
            data["target"] = target[1]
        d = {"id": eid, "type": typ, "occurred_at": fmt(occ), "recorded_at": fmt(rec), "unit": unit}
        if case is not None:
            d["case"] = case
        if actor is not None:
            d["actor"] = actor
        d["data"] = data
        line = dumps(d)
        buf.append(line)
        if len(buf) >= 20000:
            out.write("\n".join(buf) + "\n")
            buf = []
    if buf:
        out.write("\n".join(buf) + "\n")


def parse_end(s):
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s)
    if not m:
        raise argparse.ArgumentTypeError("expected YYYY-MM-DD")
    return ts_local(int(m[1]), int(m[2]), int(m[3]), 23, 59, 59)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=10000, help="number of events (lines) to write")
    ap.add_argument("--out", default="-", help="output file (default: stdout)")
    ap.add_argument("--end", type=parse_end, default=None,
                    help="last day of the history, YYYY-MM-DD (default 2026-10-31, or yesterday if earlier)")
    ap.add_argument("--codes", choices=["letters", "iso"], default="letters",
                    help="province codes: VN-LS style (default) or ISO 3166-2:VN (VN-09)")
    ap.add_argument("--id-prefix", default=None, help="event id prefix (default g<seed>-)")
    ap.add_argument("--no-reform", action="store_true",
                    help="leave out the 1 July 2025 merger of provinces and districts")
    args = ap.parse_args(argv)
    if args.count < 1:
        ap.error("--count must be positive")
    now_cap = int(time.time()) - DAY
    end = args.end if args.end is not None else DEFAULT_END
    if end > now_cap:
        print("gen_events: --end is in the future; cutting the history at yesterday "
              "(output then depends on today's date)", file=sys.stderr)
        end = now_cap
    args.end = end
    if args.id_prefix is None:
        args.id_prefix = "g%d-" % args.seed
    if not re.fullmatch(r"[A-Za-z0-9._:-]{0,40}", args.id_prefix):
        ap.error("--id-prefix: only [A-Za-z0-9._:-], at most 40 chars")
    events = generate(args)
    if args.out == "-":
        out = open(sys.stdout.fileno(), "w", encoding="utf-8", newline="\n", closefd=False,
                   buffering=1 << 20)
        write(events, out, args.id_prefix)
        out.flush()
    else:
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
            write(events, out, args.id_prefix)
        import os
        os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
