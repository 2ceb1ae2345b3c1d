/// Shared helpers for hoso's test targets.
package enum TestSupportModule {}
