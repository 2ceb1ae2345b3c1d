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

let package = Package(
  name: "hoso",
  products: [
    .executable(name: "hoso", targets: ["hoso"])
  ],
  targets: [
    .target(name: "Accelerated", swiftSettings: acceleratedSettings),
    .target(name: "EventLog", dependencies: ["Accelerated"]),
    .target(name: "Domain", dependencies: ["EventLog"]),
    .target(name: "Projections", dependencies: ["EventLog", "Domain"]),
    .target(name: "Query", dependencies: ["Projections", "Domain", "EventLog"]),
    .target(name: "Views", dependencies: ["Query", "Projections", "Domain", "EventLog"]),
    .target(name: "Shell", dependencies: ["Query", "Projections", "Domain", "EventLog"]),
    .target(name: "Demo", dependencies: ["Domain"]),
    .executableTarget(
      name: "hoso",
      dependencies: ["EventLog", "Domain", "Demo", "Projections", "Query", "Views", "Shell"]),
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
      name: "HosoTests",
      dependencies: [
        "hoso", "EventLog", "Domain", "Demo", "Projections", "Query", "Views", "TestSupport",
      ]),
  ]
)
