import Domain
import Foundation
import TestSupport
import Testing

/// Agreement with Foundation's `JSONSerialization` on random documents: a second opinion on
/// what is valid and what it means.
///
/// Foundation is laxer (it takes `[1,]`, a byte-order mark and duplicate keys), so on damaged
/// input only one direction must hold: what hoso accepts, Foundation accepts too. It reads
/// long mantissas and integers beyond Int64 as `NSDecimalNumber`, whose `doubleValue` is not
/// correctly rounded; those compare through their exact decimal description instead.
@Suite struct JSONFoundationTests {
  @Test(arguments: testSeeds(fixed: 0x666F_756E_6461_7469))
  func agreesOnValidDocuments(seed: UInt64) throws {
    var generator = RandomJSON(seed: seed)
    generator.avoidFoundationQuirks = true
    for iteration in 0..<300 {
      let value = generator.value()
      let text = generator.text(value)
      let context = "seed \(seed) case \(iteration): \(String(decoding: text, as: UTF8.self))"
      let theirs = try JSONSerialization.jsonObject(with: Data(text), options: .fragmentsAllowed)
      let found = try withParsed(text) { Self.difference(theirs, $0, 0, $1) }
      #expect(found == nil, "\(context)")
      if found != nil { return }
    }
  }

  @Test(arguments: testSeeds(fixed: 0x6C61_7865_7221_2121))
  func foundationAcceptsWhatHosoAccepts(seed: UInt64) throws {
    var generator = RandomJSON(seed: seed)
    generator.avoidFoundationQuirks = true
    var accepted = 0
    for iteration in 0..<400 {
      var text = generator.text(generator.value())
      if !text.isEmpty {
        let position = Int.random(in: 0..<text.count, using: &generator.random)
        text[position] = [0x2C, 0x5D, 0x22, 0x30, 0x2E, 0x65, 0x2D, 0x20, 0xC3]
          .randomElement(using: &generator.random)!
      }
      guard parseError(text) == nil else { continue }
      accepted += 1
      let context = "seed \(seed) case \(iteration): \(String(decoding: text, as: UTF8.self))"
      let theirs = try? JSONSerialization.jsonObject(with: Data(text), options: .fragmentsAllowed)
      #expect(theirs != nil, "\(context)")
      if let theirs {
        let found = try withParsed(text) { Self.difference(theirs, $0, 0, $1) }
        #expect(found == nil, "\(context)")
      }
    }
    #expect(accepted > 20, "seed \(seed): too few damaged documents stayed valid to compare")
  }

  /// Where Foundation's value differs from the node at `index` (a path and both values), or
  /// nil if they are equal.
  static func difference(
    _ theirs: Any, _ document: JSONDocument, _ index: Int, _ bytes: UnsafeRawBufferPointer,
    at path: String = "$"
  ) -> String? {
    let node = document.nodes[index]
    let mine = String(
      decoding: UnsafeRawBufferPointer(rebasing: bytes[Int(node.start)..<Int(node.end)]),
      as: UTF8.self)
    let differs = "\(path): hoso read \(mine), Foundation \(theirs) (\(type(of: theirs)))"
    switch node.kind {
    case .null: return theirs is NSNull ? nil : differs
    case .true, .false:
      guard let number = theirs as? NSNumber else { return differs }
      return number.boolValue == (node.kind == .true) ? nil : differs
    case .number:
      guard let number = theirs as? NSNumber else { return differs }
      if let integer = document.int64(at: index, in: bytes) {
        return number.int64Value == integer ? nil : differs
      }
      let value = document.double(at: index, in: bytes)
      if number is NSDecimalNumber {  // its description is the exact decimal
        return Double(number.description) == value ? nil : differs
      }
      return number.doubleValue == value ? nil : differs
    case .string:
      guard let string = theirs as? String else { return differs }
      var decoded: [UInt8] = []
      document.appendString(at: index, in: bytes, to: &decoded)
      return Array(string.utf8) == decoded ? nil : differs
    case .array:
      guard let array = theirs as? [Any], array.count == node.count else { return differs }
      for (position, (their, element)) in zip(array, document.elements(ofArray: index)).enumerated()
      {
        if let found = difference(their, document, element, bytes, at: "\(path)[\(position)]") {
          return found
        }
      }
      return nil
    case .object:
      guard let object = theirs as? [String: Any], object.count == node.count else {
        return differs
      }
      for (key, value) in document.members(ofObject: index) {
        let name = document.string(at: key, in: bytes)
        guard let their = object[name] else { return "\(path): Foundation lacks key \(name)" }
        if let found = difference(their, document, value, bytes, at: "\(path).\(name)") {
          return found
        }
      }
      return nil
    }
  }
}
