import Testing

@testable import Reloader

@Suite struct WakeupTests {
    /// A signal sent as a wait's deadline passes must never be lost: either that wait reports it
    /// or it stays pending for the next one. The reloader once dropped the inotify event of a fixed
    /// config this way and kept retrying the refused one until the watch interval ended.
    @Test func aSignalRacingTheDeadlineIsNeverLost() async {
        let wakeup = Wakeup()
        var lost = 0
        for round in 0..<2000 {
            let deadline = ContinuousClock.now + .microseconds(round % 200)
            let seen = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await wakeup.wait(until: deadline) }
                group.addTask {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    wakeup.signal()
                    return false
                }
                var seen = false
                for await signalled in group where signalled { seen = true }
                return seen
            }
            // Not seen by that wait: it must still be pending, so a wait that is already due sees it.
            if !seen {
                let pending = await wakeup.wait(until: .now)
                if !pending { lost += 1 }
            }
        }
        #expect(lost == 0)
    }
}
