// hoso: the command line. Parses arguments, calls one library function per command, prints.
import Foundation

let code = CommandLine.run(Array(CommandLine.arguments.dropFirst()))
exit(code)
