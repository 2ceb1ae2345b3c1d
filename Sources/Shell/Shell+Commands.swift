import Domain
import EventLog
import Foundation
import Projections
import Query

#if canImport(Glibc)
  import Glibc
#endif

extension Shell {
  // MARK: - Dot commands

  /// A usage line for a dot command given wrong arguments.
  func usage(_ name: String) -> Bool {
    let u = Self.dotCommands.first { $0.name == name }?.usage ?? name
    complain("usage: \(u)")
    return !bail
  }

  func dot(_ line: String) -> Bool {
    let words = Self.words(line)
    guard let name = words.first else { return true }
    let args = Array(words.dropFirst())
    switch name {
    case ".help":
      guard args.isEmpty else { return usage(name) }
      let width = Self.dotCommands.map(\.usage.count).max() ?? 0
      write(
        Self.dotCommands.map {
          $0.usage + String(repeating: " ", count: width - $0.usage.count + 2) + $0.what
        }.joined(separator: "\n") + "\nStatements end with ;\n")
    case ".quit", ".exit":
      guard args.isEmpty else { return usage(".quit") }
      return false
    case ".tables":
      guard args.isEmpty else { return usage(name) }
      write(tableNames().joined(separator: "\n") + "\n")
    case ".views":
      guard args.isEmpty else { return usage(name) }
      return delegate { try commands.views() }
    case ".schema":
      guard args.count <= 1 else { return usage(name) }
      let names =
        args.isEmpty ? BuiltinTables.all.map(\.name) + engine.materializedViewNames() : args
      var out = ""
      for n in names {
        do {
          let columns = try engine.columns(of: n)
          out += "CREATE TABLE \(n) (\n"
          out += columns.map { "  \($0.0) \($0.1.rawValue)" }.joined(separator: ",\n") + "\n);\n"
        } catch {
          complain(explained(error).rendered(in: n))
          return !bail
        }
      }
      write(out)
    case ".mode":
      guard args.count == 1, let m = Mode(rawValue: args[0]) else { return usage(name) }
      mode = m
    case ".timer":
      guard args.count == 1, args[0] == "on" || args[0] == "off" else { return usage(name) }
      timer = args[0] == "on"
    case ".bail":
      guard args.count == 1, args[0] == "on" || args[0] == "off" else { return usage(name) }
      bail = args[0] == "on"
    case ".pager":
      guard args.count == 1, args[0] == "on" || args[0] == "off" else { return usage(name) }
      pager = args[0] == "on"
    case ".maxrows":
      guard args.count == 1, let n = Int(args[0]), n >= 0 else { return usage(name) }
      maxRows = n
    case ".last":
      guard args.isEmpty else { return usage(name) }
      guard let last else {
        complain("no result yet")
        return !bail
      }
      let saved = maxRows
      maxRows = 0
      write(render(last))
      maxRows = saved
    case ".output", ".once":
      if args.isEmpty && name == ".output" {
        try? output?.close()
        output = nil
        return true
      }
      guard args.count == 1 else { return usage(name) }
      // What goes there are results, which may be person-level: the file is its owner's only.
      let fd: Int32
      do {
        fd = try PrivateFile.create(args[0])
      } catch {
        complain("cannot write \(args[0]): \(String(cString: strerror(error.errno)))")
        return !bail
      }
      try? output?.close()
      output = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
      outputOnce = name == ".once"
    case ".read":
      guard args.count == 1 else { return usage(name) }
      guard let data = FileManager.default.contents(atPath: args[0]),
        let text = String(data: data, encoding: .utf8)
      else {
        complain("cannot read \(args[0])")
        return !bail
      }
      return run(text: text, source: args[0])
    case ".asof":
      guard args.count >= 1 else { return usage(name) }
      let when = args.joined(separator: " ")
      do {
        try engine.setAsOf(when == "off" ? nil : when)
        asOfText = when == "off" ? nil : when
        if interactive {
          write(asOfText.map { "reading as known at \($0) (Vietnam time)\n" } ?? "reading now\n")
        }
      } catch {
        complain(error.rendered(in: when))
        return !bail
      }
    case ".audit":
      // .audit CASE [AS OF TIME]
      guard
        args.count == 1
          || (args.count >= 4 && args[1].uppercased() == "AS" && args[2].uppercased() == "OF")
      else { return usage(name) }
      var rest = [args[0]]
      if args.count >= 4 { rest += ["--as-of", args[3...].joined(separator: " ")] }
      return delegate { try commands.audit(rest) }
    case ".rebuild":
      return delegate { try commands.rebuild(args) }
    case ".report":
      guard args.count == 1 || args.count == 2 else { return usage(name) }
      var rest = [args[0]]
      if args.count == 2 { rest += ["--year", args[1]] }
      if let asOfText { rest += ["--as-of", asOfText] }
      return delegate { try commands.report(rest) }
    case ".chart":
      return chart(args)
    default:
      let hint = Catalog.nearest(name, in: Self.dotCommands.map(\.name)).map {
        "; did you mean \($0)?"
      }
      complain("unknown command \(name)\(hint ?? "") (.help lists them)")
      return !bail
    }
    return true
  }

  /// Runs a CLI command for a dot command; its errors are the shell's errors.
  func delegate(_ body: () throws -> Int32) -> Bool {
    // The commands print through stdio's buffer, the shell past it: flushed, so that their
    // output comes before what follows it (in a pipe, it came last). Under `.output` or
    // `.once` it goes to the file, as a result would.
    fflush(nil)
    let screen = output.map { file -> Int32 in
      let screen = dup(1)
      dup2(file.fileDescriptor, 1)
      return screen
    }
    defer {
      fflush(nil)
      if let screen {
        dup2(screen, 1)
        close(screen)
        if outputOnce {
          try? output?.close()
          output = nil
          outputOnce = false
        }
      }
    }
    do {
      let status = try body()
      if status != 0 { failed = true }
      return status == 0 || !bail
    } catch let e as CommandError {
      complain(e.message)
    } catch {
      complain("\(error)")
    }
    return !bail
  }

  /// Words of a dot command; quotes group words.
  static func words(_ line: String) -> [String] {
    var out: [String] = []
    var word = ""
    var quote: Character?
    var any = false
    for c in line {
      if let q = quote {
        if c == q { quote = nil } else { word.append(c) }
      } else if c == "'" || c == "\"" {
        quote = c
        any = true
      } else if c.isWhitespace {
        if any || !word.isEmpty { out.append(word) }
        word = ""
        any = false
      } else {
        word.append(c)
      }
    }
    if any || !word.isEmpty { out.append(word) }
    return out
  }

  // MARK: - Charts

  /// `.chart bar|line [X Y [SERIES]]`: the last result in Unicode blocks. X and Y default to
  /// the first column and the last numeric one.
  func chart(_ args: [String]) -> Bool {
    guard let kind = args.first, kind == "bar" || kind == "line",
      args.count == 1 || args.count == 3 || args.count == 4
    else { return usage(".chart") }
    guard let r = last, r.rows.count > 0 else {
      complain(".chart draws the last result: run a query first")
      return !bail
    }
    func column(_ name: String) -> Int? { r.names.firstIndex(of: name) }
    let x = args.count >= 3 ? column(args[1]) : 0
    let y = args.count >= 3 ? column(args[2]) : r.types.lastIndex(where: \.isNumeric)
    let series = args.count == 4 ? column(args[3]) : nil
    guard let x, let y, r.types[y].isNumeric, args.count < 4 || series != nil else {
      complain(
        ".chart: no such column, or Y is not a number: the columns are \(r.names.joined(separator: ", "))"
      )
      return !bail
    }
    let text = Chart.draw(r, kind: kind, x: x, y: y, series: series, width: LineEditor.width())
    write(text)
    return true
  }

}
