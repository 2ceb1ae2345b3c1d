import Domain
import EventLog
import Foundation
import Query
import Shell
import Views

extension CommandLine {
  /// The shell's flags, as DuckDB's and sqlite3's.
  struct ShellOptions {
    var command: String?
    var file: String?
    var mode: Shell.Mode?
    var bail = false

    /// Takes the flags off `a`; an unknown one is a usage error, before anything is opened.
    init(_ a: inout Arguments) throws {
      // The arguments a word at a time, each taken off the front.
      while let arg = a.rest.first {
        a.rest.removeFirst()
        switch arg {
        case "-c", "-f":
          guard let value = a.rest.first else { throw UsageError("\(arg) needs a value") }
          a.rest.removeFirst()
          if arg == "-c" { command = value } else { file = value }
        case "-csv", "-json", "-markdown", "-table", "-line":
          mode = Shell.Mode(rawValue: String(arg.dropFirst()))
        case "-bail": bail = true
        default:
          throw UsageError(
            "unknown argument \(arg) for shell: hoso shell [-c SQL] [-f FILE] [-csv|-json|-markdown] [-bail]"
          )
        }
      }
    }
  }

  /// `hoso shell [-c SQL] [-f FILE] [-csv|-json|-markdown] [-bail]`.
  static func shell(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    try shell(g, ShellOptions(&a))
  }

  static func shell(_ g: GlobalOptions, _ options: ShellOptions) throws -> Int32 {
    let (command, file, mode, bail) = (options.command, options.file, options.mode, options.bail)
    Engine.warmUpInBackground()
    let store = try Store.open(at: g.store)
    if g.role == "auditor" { try requireAuditor(g, store, for: "the shell as the auditor") }
    try projectIfFree(store)
    let interactive = command == nil && file == nil && isatty(0) == 1
    // The store-level dot commands are the CLI's own commands.
    func cli(_ body: @escaping (inout Arguments) throws -> Int32) -> ([String]) throws -> Int32 {
      { words in
        var a = Arguments(rest: words)
        do {
          return try body(&a)
        } catch let e as UsageError {
          throw Shell.CommandError(e.message)
        }
      }
    }
    let commands = Shell.Commands(
      views: { try cli { try views(g, &$0) }([]) },
      audit: cli { try audit(g, &$0) },
      rebuild: cli { try rebuild(g, &$0) },
      report: cli { try report(g, &$0) },
      warnStale: { engine in warnStaleViews(g, store, engine) },
      recordAccess: { statement, rows in
        do {
          let sync = try recordAccessSyncing(g, store, "shell", statement, rows: rows)
          return {
            do { try sync.wait() } catch let e as LogError {
              throw Shell.CommandError(e.description)
            }
          }
        } catch let e as LogError {
          throw Shell.CommandError(e.description)
        }
      },
      viewNames: { viewCatalog(g).definitions.map(\.name) })
    let shell = try Shell(
      store: store.path, logPath: store.logPath, interactive: interactive, commands: commands)
    configure(shell.engine, g)
    // What was printed before (a first run's demo store) comes before what the shell writes.
    fflush(nil)
    if let mode { shell.mode = mode }
    if bail { shell.bail = true }
    if let command {
      // A statement without its `;` still ends; a dot command ends at its line.
      let text = command.hasSuffix(";") || command.hasPrefix(".") ? command : command + ";"
      _ = shell.run(text: text, source: "-c")
      return shell.failed ? 1 : 0
    }
    if let file {
      guard let data = FileManager.default.contents(atPath: file),
        let text = String(data: data, encoding: .utf8)
      else { throw UsageError("cannot read \(file)") }
      _ = shell.run(text: text, source: file)
      return shell.failed ? 1 : 0
    }
    if !interactive {
      let data = FileHandle.standardInput.readDataToEndOfFile()
      _ = shell.run(text: String(decoding: data, as: UTF8.self), source: "<stdin>")
      return shell.failed ? 1 : 0
    }
    return shell.interact()
  }
}
