import Domain

extension Generator {
  /// Runs the model: the events sorted by `recorded_at`, exactly `options.count` of them.
  mutating func simulate() {
    let firstYear = options.fromYear
    initialEstablishments(
      total: Self.nationalEstablishments * scale, registeredIn: firstYear - 1)
    var outreachWeights: [(province: Int, start: Int64, end: Int64, weight: Double)] = []
    for y in firstYear...options.toYear {
      let ys = Self.local(y, 1, 1)
      let ye = min(Self.local(y + 1, 1, 1), end - 40 * Self.day)
      guard ye > ys else { break }
      let frac = Double(ye - ys) / Double(Self.local(y + 1, 1, 1) - ys)
      let f = Vocabulary.years[y] ?? Vocabulary.years[2026]!
      for (pi, p) in provinces.enumerated() {
        let active = p.establishments.filter {
          establishments[$0].closed == nil && establishments[$0].available < ye
        }
        let na = Double(active.count)
        outreachWeights.append((pi, ys, ye, p.weight * f.tips * frac))
        // Closures and new registrations.
        for i in random.sample(
          random.round(na * f.closed * frac * random.uniform(0.7, 1.3)), of: active.count)
        {
          let e = active[i]
          let occurred = workTime(max(ys, establishments[e].available), ye)
          let recorded = recordTime(occurred)
          guard recorded <= end else { continue }
          establishments[e].closed = occurred
          var d = JSONObject()
          d.string("establishment", establishments[e].id)
          if random.chance(0.6) { d.string("reason", random.pick(Vocabulary.closeReasons)) }
          emit(
            recorded, occurred, T.closed, unit: unit(establishments[e].unit, at: occurred),
            actor: department(p, at: occurred), data: d)
        }
        for _ in 0..<random.round(na * f.opened * frac * random.uniform(0.7, 1.3)) {
          let occurred = workTime(ys, ye)
          let recorded = recordTime(occurred)
          if recorded <= end { register(p, occurred, recorded) }
        }
        // Routine inspections: a share of the establishments active at the year's start,
        // around the targets, each province with its own bias.
        let rate = f.inspected * p.inspectionBias * random.uniform(0.85, 1.15)
        for i in random.sample(random.round(na * rate * frac), of: active.count) {
          let e = establishments[active[i]]
          let t0 = max(ys, e.available)
          let t1 = min(ye, e.closed ?? ye)
          guard t1 - t0 >= Self.day else { continue }
          let occurred = workTime(t0, t1)
          let recorded = recordTime(occurred)
          if recorded <= end { inspect(p, active[i], occurred, recorded) }
        }
        // Tips and the cases they open.
        let tips = random.round(na * 0.12 * f.tips * frac * random.uniform(0.6, 1.4))
        var tipTimes = (0..<tips).map { _ in workTime(ys, ye) }
        tipTimes.sort()
        for t in tipTimes { tipCase(pi, year: y, t, active) }
        // Support to persons, growing over the years.
        let growth = 0.6 + 0.05 * Double(y - 2011)
        for _ in 0..<random.round(na * 0.35 * growth * frac * random.uniform(0.7, 1.3)) {
          support(p, workTime(ys, ye))
        }
        // Trainings: a couple a year at province level, more where there is more to do.
        for _ in 0..<random.round((2 * scale + na * 0.01) * frac * random.uniform(0.5, 1.5)) {
          training(p, workTime(ys, ye))
        }
      }
    }
    // Outreach fills up to the count: everywhere, all the time, more where more people live.
    let left = options.count - events.count
    if left > 0 && !outreachWeights.isEmpty {
      let weights = outreachWeights.map(\.weight)
      let total = weights.reduce(0, +)
      var cumulative: [Double] = []
      var sum = 0.0
      for w in weights {
        sum += w / total
        cumulative.append(sum)
      }
      for _ in 0..<left {
        let x = random.double()
        var lo = 0
        var hi = cumulative.count - 1
        while lo < hi {
          let mid = (lo + hi) / 2
          if cumulative[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        let w = outreachWeights[lo]
        outreach(provinces[w.province], workTime(w.start, w.end))
      }
    }
  }

  // MARK: - Establishments and inspections

  private mutating func initialEstablishments(total: Double, registeredIn year: Int) {
    let sum = provinces.reduce(0) { $0 + $1.weight }
    var t = Self.local(year, 12, 15, 8)
    let span = Self.local(year, 12, 31, 17) - t
    let quotas = provinces.map { random.round(total * $0.weight / sum) }
    let step = max(1, span / Int64(max(1, quotas.reduce(0, +))))
    for (p, q) in zip(provinces, quotas) {
      for _ in 0..<q {
        t += step > 1 ? random.int64(1...(2 * step - 1)) : 1
        let occurred = random.int64(Self.local(2004, 1, 1)...Self.local(year, 11, 30))
        register(p, occurred, t)
      }
    }
  }

  private mutating func register(_ p: Province, _ occurred: Int64, _ recorded: Int64) {
    p.establishmentNumber += 1
    let kind = random.weighted(Vocabulary.establishmentKindWeights)
    let name =
      Vocabulary.establishmentKindNames[kind] + " " + random.pick(Vocabulary.establishmentNames)
    let at = unit(place(in: p), at: occurred)
    let id = "CS-\(p.key)-" + pad(p.establishmentNumber, 5)
    establishments.append(
      Establishment(
        id: id, kind: kind, name: name, unit: at, available: recorded + Self.day, closed: nil))
    p.establishments.append(establishments.count - 1)
    var d = JSONObject()
    d.string("establishment", id)
    d.string("kind", Vocabulary.establishmentKinds[kind])
    if random.chance(0.9) { d.string("name", name) }
    let actor = department(p, at: occurred).replacingPrefix("Sở LĐTBXH", "Sở VHTTDL")
      .replacingPrefix("Sở Y tế", "Sở VHTTDL")
    let i = emit(recorded, occurred, T.registered, unit: at, actor: actor, data: d)
    maybeAmend(
      i, "establishment.registered",
      correction: { r in
        var c = JSONObject()
        if r.chance(0.5) {
          var k = r.int(0...(Vocabulary.establishmentKinds.count - 2))
          if k >= kind { k += 1 }
          c.string("kind", Vocabulary.establishmentKinds[k])
        } else {
          c.string(
            "name",
            Vocabulary.establishmentKindNames[kind] + " " + r.pick(Vocabulary.establishmentNames))
        }
        return c
      }, voidable: false)
  }

  @discardableResult
  private mutating func inspect(
    _ p: Province, _ e: Int, _ occurred: Int64, _ recorded: Int64,
    case c: (province: Int, year: Int, number: Int)? = nil, violationRate: Double? = nil
  ) -> Bool {
    let est = establishments[e]
    let team =
      c == nil
      ? Vocabulary.teams[random.weighted(Vocabulary.teamWeights)]
      : random.pick(["interagency_178", "police"])
    let year = Double(Timestamp.civilFromDays((occurred + 7 * 3600) / Self.day).year)
    let rate = violationRate ?? Vocabulary.violationRate[est.kind] * (1.12 - 0.03 * (year - 2011))
    var d = JSONObject()
    d.string("establishment", est.id)
    d.string("team", team)
    let violation = random.chance(rate)
    var fine: Int?
    if violation {
      d.string("result", "violation")
      let s = Vocabulary.sanctions[random.weighted(Vocabulary.sanctionWeights)]
      d.string("sanction", s)
      if s == "fine" || (s != "warning" && random.chance(0.7)) {
        // Fines for prostitution offences: Decree 73/2010, 167/2013, 144/2021 (million VND).
        let high = occurred >= Self.decree144 ? 40 : occurred >= Self.decree167 ? 30 : 20
        fine = random.int(2...(2 * high)) * 500_000
        d.int("fine_vnd", fine!)
      }
    } else {
      d.string("result", "compliant")
      d.string("sanction", "none")
    }
    let place = display(p, at: occurred)
    let actor =
      switch team {
      case "interagency_178": "Đoàn kiểm tra liên ngành 178 " + place
      case "police": "Công an " + place
      case "culture": "Sở VHTTDL " + place
      default: "Sở Y tế " + place
      }
    let i = emit(
      recorded, occurred, T.inspection, unit: unit(est.unit, at: occurred), actor: actor, case: c,
      data: d)
    maybeAmend(
      i, "inspection.done",
      correction: { r in
        var ch = JSONObject()
        if let fine {
          ch.int(
            "fine_vnd", max(500_000, fine + (r.chance(0.5) ? 1 : -1) * r.int(1...10) * 500_000))
        } else if violation {
          ch.string("sanction", "warning")
        } else {
          ch.string("team", team == "police" ? "interagency_178" : "police")
        }
        return ch
      }, voidable: c == nil)
    return violation
  }

  // MARK: - Tips and cases

  private mutating func tipCase(_ pi: Int, year: Int, _ at: Int64, _ active: [Int]) {
    let p = provinces[pi]
    var occurred = at
    var est: Int?
    if !active.isEmpty && random.chance(0.8) {
      let e = random.pick(active)
      if let closed = establishments[e].closed, occurred >= closed - Self.day {
        est = nil
      } else {
        est = e
        if occurred < establishments[e].available {
          occurred = establishments[e].available + random.int64(0...(5 * Self.day))
        }
      }
    }
    let place =
      est.map { unit(establishments[$0].unit, at: occurred) }
      ?? unit(self.place(in: p), at: occurred)
    var recorded = occurred + random.int64(600...(2 * Self.day))
    guard recorded <= end else { return }
    p.caseNumbers[year, default: 0] += 1
    let c = (province: pi, year: year, number: p.caseNumbers[year]!)
    let source = Vocabulary.tipSources[random.weighted(Vocabulary.tipSourceWeights)]
    var d = JSONObject()
    d.string("source", source)
    if let est { d.string("establishment", establishments[est].id) }
    if random.chance(0.75) {
      if let est {
        let e = establishments[est]
        let name = e.kind == 0 || e.kind == 1 || e.kind == 6 ? e.name : lowerFirst(e.name)
        d.string(
          "summary", random.pick(Vocabulary.tipAboutEstablishment).replacingPlaceholder(name))
      } else {
        let u = units[place]
        let name = u.level == "commune" || u.level == "ward" ? u.name.lowercased() : u.name
        d.string("summary", random.pick(Vocabulary.tipAboutArea).replacingPlaceholder(name))
      }
    }
    let tipActor =
      source == "police" ? "Công an " + display(p, at: occurred) : actor(at: place, p, occurred)
    let tip = emit(recorded, occurred, T.tip, unit: place, actor: tipActor, case: c, data: d)
    maybeAmend(
      tip, "tip.received",
      correction: { r in
        var ch = JSONObject()
        ch.string("source", source == "citizen" ? "hotline" : "citizen")
        return ch
      }, voidable: false)
    // Verification: most within a week, some after the 20-day limit, a few never.
    guard !random.chance(0.03) else { return }
    let lag =
      random.chance(0.85)
      ? random.int64((2 * 3600)...(7 * Self.day)) : random.int64((7 * Self.day)...(45 * Self.day))
    var previous = occurred + lag
    recorded = max(previous + random.int64(600...(3 * Self.day)), recorded + 1)
    guard recorded <= end else { return }
    let substantiated = random.chance(max(0.30, 0.55 - 0.012 * Double(year - 2011)))
    var v = JSONObject()
    var classification: String?
    if substantiated {
      v.string("finding", "substantiated")
      classification = Vocabulary.classifications[random.weighted(Vocabulary.classificationWeights)]
      v.string("classification", classification!)
    } else {
      v.string("finding", "unfounded")
      if random.chance(0.05) { v.string("classification", "administrative") }
    }
    let vPlace = unit(place, at: previous)
    let verified = emit(
      recorded, previous, T.verified, unit: vPlace, actor: actor(at: vPlace, p, previous), case: c,
      data: v)
    if let classification {
      maybeAmend(
        verified, "tip.verified",
        correction: { r in
          var ch = JSONObject()
          ch.string(
            "classification", classification == "administrative" ? "minor" : "administrative")
          return ch
        }, voidable: false)
    }
    var outcome = "unfounded"
    if let classification {
      if let est, random.chance(0.7) {
        let at = previous + random.int64(3600...(5 * Self.day))
        let rec = max(at + random.int64(600...(3 * Self.day)), recorded + 1)
        guard rec <= end else { return }
        let violation = inspect(p, est, at, rec, case: c, violationRate: 0.75)
        previous = at
        recorded = rec
        outcome = violation ? "sanctioned" : "no_violation_found"
      } else {
        outcome = "sanctioned"
      }
      let serious = classification == "criminal" || classification == "trafficking"
      if serious || random.chance(0.35) {
        let to: String
        if serious {
          to = random.chance(0.8) ? "police" : "procuracy"
        } else if classification == "minor" {
          to = ["social", "women_union", "police"][random.weighted([40, 30, 30])]
        } else {
          to = ["police", "social", "health"][random.weighted([50, 30, 20])]
        }
        var r = JSONObject()
        r.string("referred_to", to)
        let code2015 = previous >= Self.penalCode2015
        if classification == "criminal" {
          // Penal Code 2015 arts. 327–328 (harbouring, brokering); 1999 arts. 254–255.
          r.string(
            "basis",
            code2015
              ? "BLHS 2015 Đ." + random.pick(["327", "328"])
              : "BLHS 1999 Đ." + random.pick(["254", "255"]))
        } else if classification == "trafficking" {
          r.string("basis", code2015 ? "BLHS 2015 Đ.150" : "BLHS 1999 Đ.119")
        } else if classification == "administrative" && random.chance(0.5) {
          r.string(
            "basis",
            previous >= Self.decree144
              ? "NĐ 144/2021/NĐ-CP"
              : previous >= Self.decree167 ? "NĐ 167/2013/NĐ-CP" : "NĐ 73/2010/NĐ-CP")
        }
        let at = previous + random.int64(Self.day...(20 * Self.day))
        let rec = max(at + random.int64(600...(3 * Self.day)), recorded + 1)
        guard rec <= end else { return }
        let rPlace = unit(place, at: at)
        emit(rec, at, T.referred, unit: rPlace, actor: actor(at: rPlace, p, at), case: c, data: r)
        previous = at
        recorded = rec
        if serious {
          outcome =
            ["prosecuted", "transferred", "no_further_action"][random.weighted([60, 30, 10])]
        } else if to != "police" {
          outcome = "supported"
        }
      }
    }
    guard !random.chance(0.1) else { return }  // left open
    let at =
      previous
      + (outcome == "unfounded"
        ? random.int64(Self.day...(10 * Self.day))
        : random.int64((5 * Self.day)...(180 * Self.day)))
    let rec = max(at + random.int64(600...(3 * Self.day)), recorded + 1)
    guard rec <= end else { return }
    var d2 = JSONObject()
    d2.string("outcome", outcome)
    let cPlace = unit(place, at: at)
    emit(rec, at, T.caseClosed, unit: cPlace, actor: actor(at: cPlace, p, at), case: c, data: d2)
  }

  // MARK: - Support, training, outreach

  private mutating func support(_ p: Province, _ occurred: Int64) {
    let person: String
    let home: Int
    if !p.persons.isEmpty && random.chance(0.7) {
      (person, home) = p.persons[random.int(max(0, p.persons.count - 200)...(p.persons.count - 1))]
    } else {
      person = pseudonym()
      home = place(in: p)
      p.persons.append((person, home))
    }
    let recorded = recordTime(occurred)
    guard recorded <= end else { return }
    let kind = random.weighted(Vocabulary.supportKindWeights)
    var d = JSONObject()
    d.string("person", person)
    d.string("kind", Vocabulary.supportKinds[kind])
    let at = unit(home, at: occurred)
    var provider: String?
    if random.chance(0.85) {
      let u = units[at]
      let whereName =
        kind == 1 && (u.level == "district" || u.level == "town")
        ? u.name : display(p, at: occurred)
      provider =
        Vocabulary.supportProviders[kind]
        + (kind == 3 ? units[unit(p.unit, at: occurred)].name : whereName)
      d.string("provider", provider!)
    }
    let amounts: [Int: ClosedRange<Int>] = [3: 3...12, 5: 20...100, 7: 1...6]
    var amount: Int?
    if let range = amounts[kind], random.chance(0.9) {
      amount = random.int(range) * 500_000
      d.int("amount_vnd", amount!)
    }
    let i = emit(
      recorded, occurred, T.support, unit: at, actor: actor(at: at, p, occurred), data: d)
    let otherProvider = "Hội Liên hiệp Phụ nữ " + display(p, at: occurred)
    maybeAmend(
      i, "support.provided",
      correction: { r in
        var ch = JSONObject()
        if amount != nil {
          ch.int("amount_vnd", r.int(1...40) * 500_000)
        } else {
          ch.string("provider", otherProvider)
        }
        return ch
      }, voidable: true)
  }

  private mutating func training(_ p: Province, _ occurred: Int64) {
    let recorded = recordTime(occurred)
    guard recorded <= end else { return }
    let at = unit(random.chance(0.5) ? place(in: p) : p.unit, at: occurred)
    let level = units[at].level
    var d = JSONObject()
    d.string(
      "audience", Vocabulary.trainingAudiences[random.weighted(Vocabulary.trainingAudienceWeights)])
    let participants = random.int(20...150)
    d.int("participants", participants)
    d.string(
      "level",
      level == "commune" || level == "ward"
        ? "commune" : level == "district" || level == "town" ? "district" : "province")
    let i = emit(
      recorded, occurred, T.training, unit: at, actor: actor(at: at, p, occurred), data: d)
    maybeAmend(
      i, "training.held",
      correction: { r in
        var ch = JSONObject()
        ch.int("participants", max(5, participants + r.int(-15...15)))
        return ch
      }, voidable: true)
  }

  private mutating func outreach(_ p: Province, _ occurred: Int64) {
    var recorded = recordTime(occurred)
    if recorded > end { recorded = random.int64(occurred...end) }
    let at = unit(place(in: p), at: occurred)
    let form = random.weighted(Vocabulary.outreachFormWeights)
    var d = JSONObject()
    d.string("form", Vocabulary.outreachForms[form])
    d.string(
      "audience", Vocabulary.outreachAudiences[random.weighted(Vocabulary.outreachAudienceWeights)])
    let reached = random.int(Vocabulary.outreachReach[form])
    d.int("reached", reached)
    let i = emit(
      recorded, occurred, T.outreach, unit: at, actor: actor(at: at, p, occurred), data: d)
    maybeAmend(
      i, "outreach.held",
      correction: { r in
        var ch = JSONObject()
        ch.int("reached", max(1, Int(Double(reached) * r.uniform(0.5, 1.5))))
        return ch
      }, voidable: true)
  }

  /// A pseudonym as `append --pseudonymize` makes them: `P-` + 16 hex digits, never with a run
  /// of exactly 9 or 12 digits (which validation would take for an ID number).
  private mutating func pseudonym() -> String {
    while true {
      let hex = String(random.next(), radix: 16)
      let s = String(repeating: "0", count: 16 - hex.count) + hex
      var run = 0
      var bad = false
      for c in s.utf8 {
        if c >= 0x30 && c <= 0x39 {
          run += 1
        } else {
          if run == 9 || run == 12 { bad = true }
          run = 0
        }
      }
      if run == 9 || run == 12 { bad = true }
      if !bad { return "P-" + s }
    }
  }

}

extension String {
  func replacingPrefix(_ prefix: String, _ with: String) -> String {
    hasPrefix(prefix) ? with + dropFirst(prefix.count) : self
  }

  func replacingPlaceholder(_ value: String) -> String {
    guard let r = range(of: "{}") else { return self }
    return replacingCharacters(in: r, with: value)
  }
}
