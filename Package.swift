// swift-tools-version:6.0
// hoso: an event-sourced data warehouse for Vietnam's prostitution-prevention programme.
// No package dependencies: Foundation, Dispatch and the C library only.
import PackageDescription

/// The one module compiled for more than the x86-64 baseline: its SHA-NI and SSE4.2 kernels run
/// only after `CPU` has found those instructions at run time (see Sources/Accelerated).
#if arch(x86_64)
  let acceleratedSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-msse4.2", "-Xcc", "-msha"])
  ]
#else
  let acceleratedSettings: [SwiftSetting] = []
#endif

/// A release build of `hoso` carries the Swift runtime and Foundation in itself: a process
/// starts without the dynamic loader binding a dozen libraries' symbols, 3.5 ms of every
/// `hoso query` (as `swift build --static-swift-stdlib`, which the README's `swift run` cannot
/// pass). Its modules are compiled for it too (their link dependencies are the static
/// libraries'), and lld, which the toolchain ships, links it. Debug builds and the tests stay
/// dynamic.
///
/// A release build also leaves out the run-time checks of exclusive access (to a class's
/// properties, to globals, to what escaping closures capture): they were a twentieth of a
/// projection's instructions. The compiler's static checks stay, and debug builds and the
/// tests, where `swift test` runs every path, keep the run-time ones too.
let staticRuntime: [SwiftSetting] = [
  .unsafeFlags(["-static-stdlib"], .when(platforms: [.linux], configuration: .release)),
  .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]
let staticLink: [LinkerSetting] = [
  .unsafeFlags(
    ["-static-stdlib", "-use-ld=lld"], .when(platforms: [.linux], configuration: .release))
]

let package = Package(
  name: "hoso",
  products: [
    .executable(name: "hoso", targets: ["hoso"])
  ],
  targets: [
    .target(name: "Accelerated", swiftSettings: acceleratedSettings + staticRuntime),
    .target(name: "EventLog", dependencies: ["Accelerated"], swiftSettings: staticRuntime),
    .target(name: "Domain", dependencies: ["EventLog"], swiftSettings: staticRuntime),
    .target(
      name: "Projections", dependencies: ["EventLog", "Domain"], swiftSettings: staticRuntime),
    .target(
      name: "Query", dependencies: ["Projections", "Domain", "EventLog"],
      swiftSettings: staticRuntime),
    .target(
      name: "Views", dependencies: ["Query", "Projections", "Domain", "EventLog"],
      swiftSettings: staticRuntime),
    .target(
      name: "Shell", dependencies: ["Query", "Projections", "Domain", "EventLog"],
      swiftSettings: staticRuntime),
    .target(name: "Demo", dependencies: ["Domain"], swiftSettings: staticRuntime),
    .target(
      name: "Warehouse", dependencies: ["Views", "Query", "Projections", "Domain", "EventLog"],
      swiftSettings: staticRuntime),
    .executableTarget(
      name: "hoso",
      dependencies: [
        "EventLog", "Domain", "Demo", "Projections", "Query", "Views", "Warehouse", "Shell",
      ],
      swiftSettings: staticRuntime, linkerSettings: staticLink),
    .target(
      name: "TestSupport",
      dependencies: ["EventLog", "Domain"],
      path: "Tests/TestSupport"
    ),
    .testTarget(name: "EventLogTests", dependencies: ["EventLog", "TestSupport"]),
    .testTarget(name: "DomainTests", dependencies: ["Domain", "EventLog", "TestSupport"]),
    .testTarget(name: "QueryTests", dependencies: ["Query", "TestSupport"]),
    .testTarget(
      name: "ProjectionsTests", dependencies: ["Projections", "Domain", "EventLog", "TestSupport"]),
    .testTarget(
      name: "WarehouseTests",
      dependencies: ["Warehouse", "Views", "Domain", "EventLog", "TestSupport"]),
    .testTarget(
      name: "HosoTests",
      dependencies: [
        "hoso", "EventLog", "Domain", "Demo", "Projections", "Query", "Views", "TestSupport",
      ]),
  ]
)
