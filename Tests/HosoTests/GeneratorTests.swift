import Foundation
import TestSupport
import Testing

/// `hoso generate` and `hoso demo`: deterministic, valid, and shaped like the programme.
@Suite struct GeneratorTests {
  static func generate(_ arguments: [String]) throws -> String {
    let r = try runHoso(["generate"] + arguments)
    #expect(r.status == 0, "\(r.stderr)")
    return r.stdout
  }

  static func objects(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").map {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) ?? [:]
    }
  }

  @Test func theSameArgumentsGiveTheSameBytesAndAnotherSeedOtherData() throws {
    let a = try Self.generate(["--seed", "7", "--count", "3000"])
    let b = try Self.generate(["--seed", "7", "--count", "3000"])
    let c = try Self.generate(["--seed", "8", "--count", "3000"])
    #expect(a == b)
    #expect(a != c)
    // The generated part differs in its data, not only in the ids' prefix.
    let strip = { (s: String) in
      s.split(separator: "\n").filter { $0.contains(#""id":"g"#) }.map {
        $0.replacing(/"id":"g[0-9]+-[0-9]+"/, with: "").replacing(
          /"target":"g[0-9]+-[0-9]+"/, with: "")
      }
    }
    #expect(strip(a) != strip(c))
  }

  @Test func exactlyCountEventsSortedByRecordedAtThatAppendAndVerify() throws {
    let text = try Self.generate(["--seed", "3", "--count", "5000"])
    let events = Self.objects(text)
    let generated = events.filter { ($0["id"] as? String)?.hasPrefix("g3-") == true }
    #expect(generated.count == 5000)
    let times = events.map { $0["recorded_at"] as? String ?? "" }
    // All times are canonical (+07:00, fixed width but for a fraction the generator never
    // writes), so text order is time order.
    #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    let r = try store.run(["append", "-"], stdin: Array(text.utf8))
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.hasPrefix("appended \(events.count) events"))
    let v = try store.run(["verify"])
    #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
  }

  @Test func theDataBehavesLikeTheProgramme() throws {
    let events = Self.objects(try Self.generate(["--seed", "1", "--count", "40000"]))
    // Units merged away on 1 July 2025 (or Thừa Thiên Huế on 1 January) are not where
    // anything happens afterwards.
    var mergedAt: [String: String] = [:]
    for e in events where e["type"] as? String == "unit.merged" {
      mergedAt[e["unit"] as! String] = e["occurred_at"] as? String
    }
    #expect(mergedAt.count >= 29)
    let generated = events.filter { ($0["id"] as? String)?.hasPrefix("g1-") == true }
    for e in generated {
      let unit = e["unit"] as! String
      let occurred = e["occurred_at"] as! String
      if let at = mergedAt[unit] {
        #expect(occurred < at, "\(e["id"]!) at \(unit) on \(occurred), merged on \(at)")
      }
      // From 1 March 2025 the Departments of Health report, not those of Labour.
      if occurred >= "2025-03-01", let actor = e["actor"] as? String {
        #expect(!actor.contains("LĐTBXH"), "\(e["id"]!): \(actor)")
      }
    }
    // Corrections and voids: about 0.5 %.
    let amended = generated.filter {
      ["event.corrected", "event.voided"].contains($0["type"] as? String)
    }.count
    let share = Double(amended) / Double(generated.count)
    #expect(share > 0.002 && share < 0.01, "corrections and voids: \(share)")
    // Inspections per year: a share of the establishments around the targets.
    var registered = 0
    var inspected: [String: Int] = [:]
    for e in generated {
      switch e["type"] as? String {
      case "establishment.registered" where (e["occurred_at"] as! String) < "2011": registered += 1
      case "inspection.done":
        inspected[String((e["occurred_at"] as! String).prefix(4)), default: 0] += 1
      default: break
      }
    }
    let inspected2012 = Double(inspected["2012"] ?? 0) / Double(max(1, registered))
    #expect(inspected2012 > 0.2 && inspected2012 < 0.45, "2012: \(inspected2012)")
    // Some tips are verified after the 20-day limit, most within it.
    var opened: [String: Date] = [:]
    var late = 0
    var verified = 0
    let iso = ISO8601DateFormatter()
    for e in generated {
      guard let c = e["case"] as? String, let t = iso.date(from: e["occurred_at"] as! String)
      else { continue }
      if e["type"] as? String == "tip.received" { opened[c] = t }
      if e["type"] as? String == "tip.verified", let o = opened[c] {
        verified += 1
        if t.timeIntervalSince(o) > 20 * 86400 { late += 1 }
      }
    }
    let lateShare = Double(late) / Double(max(1, verified))
    #expect(verified > 100 && lateShare > 0.02 && lateShare < 0.25, "late: \(lateShare)")
  }

  @Test func badArgumentsAreOneLineAndExitOne() throws {
    for args in [
      ["--count", "-5"], ["--count", "x"], ["--from", "2009"], ["--to", "2030"],
      ["--from", "2020", "--to", "2015"], ["--bogus"],
    ] {
      let r = try runHoso(["generate"] + args)
      #expect(r.status == 1, "\(args)")
      #expect(r.stdout.isEmpty)
      #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
    }
  }

  @Test func demoMakesAStoreAndRefusesAnExistingOne() throws {
    let store = TestStore()
    // The small scale is 100,000 events; a test takes a sample of the same model.
    let r = try store.run(["demo", "--scale", "small", "--seed", "2", "--count", "4000"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("and 4000 generated events"))
    let v = try store.run(["verify"])
    #expect(v.status == 0)
    let before = snapshotTree(store.path)
    let again = try store.run(["demo"])
    #expect(again.status == 1)
    #expect(again.stderr.contains("already exists"))
    #expect(snapshotTree(store.path) == before)
  }
}
