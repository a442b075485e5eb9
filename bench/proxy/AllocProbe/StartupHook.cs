using System.Globalization;

/// <summary>
/// Loaded by the runtime before Main when DOTNET_STARTUP_HOOKS names this assembly. Every 200 ms it rewrites the
/// file named by LB_ALLOC_PROBE_FILE with one line: bytes allocated so far, gen0/gen1/gen2 collection counts and
/// the total GC pause in milliseconds. run.sh reads it before and after a load run; nothing else changes.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        var path = Environment.GetEnvironmentVariable("LB_ALLOC_PROBE_FILE");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }
        var thread = new Thread(() => Loop(path)) { IsBackground = true, Name = "alloc-probe" };
        thread.Start();
    }

    private static void Loop(string path)
    {
        var temp = path + ".tmp";
        while (true)
        {
            try
            {
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"{GC.GetTotalAllocatedBytes(false)} {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)} {GC.GetTotalPauseDuration().TotalMilliseconds:F1}\n");
                File.WriteAllText(temp, line);
                File.Move(temp, path, overwrite: true);
            }
            catch (IOException)
            {
                // The benchmark's temp directory is going away; stop quietly.
                return;
            }
            Thread.Sleep(200);
        }
    }
}
