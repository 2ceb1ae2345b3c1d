// hoso: the command line. Parses arguments, calls one library function per command, prints.
import EventLog
import Foundation

#if canImport(Glibc)
  import Glibc

  // The query engine allocates vectors of a few hundred KB for every row group and frees them
  // at once. glibc serves blocks from 128 KB up with mmap and returns them on free, so each
  // row group paid page faults on fresh zeroed pages (a fifth of a scan's time). Blocks up to
  // 64 MB come from the heap instead, and the heap is trimmed only past 256 MB free.
  // (mallopt is not in Swift's Glibc module: found by name. M_TRIM_THRESHOLD is -1,
  // M_MMAP_THRESHOLD -3, in malloc.h.)
  if let f = dlsym(nil, "mallopt") {
    let mallopt = unsafeBitCast(f, to: (@convention(c) (Int32, Int32) -> Int32).self)
    _ = mallopt(-3, 64 << 20)
    _ = mallopt(-1, 256 << 20)
  }
#endif

// The fault tests' crash and failure points (tools/fault-test), set before any thread starts.
if let problem = FaultInjection.configure(getenv("HOSO_FAULT").map { String(cString: $0) }) {
  FileHandle.standardError.write(Data("hoso: \(problem)\n".utf8))
  exit(1)
}
let code = CommandLine.run(Array(CommandLine.arguments.dropFirst()))
exit(code)
