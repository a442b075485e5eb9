using System.Runtime.InteropServices;

namespace Lb.Server;

/// <summary>
/// The process's open-file limit (RLIMIT_NOFILE) and the connection budgets derived from it. Every client
/// connection, upstream connection, probe and store file is a descriptor; running out makes the runtime abort the
/// process when it next creates a thread (docs/reliability.md), so listeners are capped below the limit.
/// </summary>
internal static partial class DescriptorLimit
{
    private const int RlimitNofile = 7; // Linux

    /// <summary>Descriptors kept free for upstream connections, probes, the store, logging and runtime threads.</summary>
    public static long Headroom(long limit) => Math.Max(256, limit / 8);

    /// <summary>Default admin budget: enough for operators and scrapers, small enough to never matter.</summary>
    public const int DefaultAdminConnections = 64;

    /// <summary>
    /// Default proxy budget: what is left after the headroom and the admin budget, halved because a busy client
    /// connection also holds an upstream connection.
    /// </summary>
    public static long DefaultProxyConnections(long limit, long adminConnections) =>
        Math.Max(16, (limit - Headroom(limit) - adminConnections) / 2);

    /// <summary>Raises the soft limit to the hard limit (as nginx's worker_rlimit_nofile would); returns the soft limit now in force, or null where unknown.</summary>
    public static long? RaiseToHard()
    {
        if (!OperatingSystem.IsLinux() || GetRLimit(RlimitNofile, out var limit) != 0)
        {
            return null;
        }
        if (limit.Current < limit.Max)
        {
            var raised = new RLimit { Current = limit.Max, Max = limit.Max };
            if (SetRLimit(RlimitNofile, in raised) == 0)
            {
                return (long)Math.Min(raised.Current, long.MaxValue);
            }
        }
        return (long)Math.Min(limit.Current, long.MaxValue);
    }

    /// <summary>The soft limit in force, or null where unknown.</summary>
    public static long? Current() =>
        OperatingSystem.IsLinux() && GetRLimit(RlimitNofile, out var limit) == 0 ? (long)Math.Min(limit.Current, long.MaxValue) : null;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Max;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit")]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit")]
    private static partial int SetRLimit(int resource, in RLimit limit);
}
