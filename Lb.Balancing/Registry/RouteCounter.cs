using System.Runtime.InteropServices;

namespace Lb.Balancing.Registry;

/// <summary>
/// A per-route pick counter. Padded to two cache lines so the counters of busy routes do not share a line.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal sealed class RouteCounter
{
    [FieldOffset(64)]
    private long _value;

    /// <summary>Returns the value before the increment (starts at 0), like the contract's <c>counter++</c>.</summary>
    public ulong Next() => (ulong)(Interlocked.Increment(ref _value) - 1);
}
