using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// samples/cluster/up.sh and down.sh as a newcomer runs them: three nodes and the demo backends come up as one
/// cluster, and down.sh leaves nothing running. Each node gets its own loopback address (127.x.y.1-3), so the
/// script's ports cannot clash with a parallel test; the state dir is a temporary one, not samples/cluster/.run.
/// The --vip form (root) runs the same cluster in network namespaces with a VIP, prefixed with names unique to the run.
/// Runs alone, after the parallel tests: its four processes starve the timing-bounded tests on a 2-core machine.
/// </summary>
[Collection(nameof(ClusterDemoScriptTests))]
public sealed class ClusterDemoScriptTests : IDisposable
{
    private readonly TempDirectory _state = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _root;
    private readonly string[] _ips;
    private readonly int[] _backendPorts;

    public ClusterDemoScriptTests()
    {
        // Makes the test fail with "build it first" when the outputs the script runs (it is told not to build) are missing.
        var server = RepoPaths.BuiltDll(Path.Combine("samples", "Lb.Server"), "lb.dll");
        RepoPaths.BuiltDll(Path.Combine("samples", "DemoBackend"), "DemoBackend.dll");
        _root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(server)!, "..", "..", "..", "..", ".."));
        var net = $"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}";
        _ips = [$"{net}.1", $"{net}.2", $"{net}.3"];
        // The demo backend listens on localhost at the ports it is given (it has no port 0 form), so the kernel picks
        // three free ones here; the script fails loudly if one was taken in between.
        _backendPorts = [.. Enumerable.Range(0, 3).Select(_ => FreeLocalhostPort())];
    }

    public void Dispose()
    {
        // A failed assertion must not leave the cluster running: stop whatever is still in the pid files.
        foreach (var pid in PidFiles().Select(File.ReadAllText))
        {
            try
            {
                using var process = Process.GetProcessById(int.Parse(pid.Trim(), CultureInfo.InvariantCulture));
                process.Kill();
                process.WaitForExit(10_000);
            }
            catch (ArgumentException)
            {
            }
        }
        if (_vipPrefix is not null)
        {
            // The namespaces up.sh --vip created (names unique to this run), with whatever still runs in them.
            var (_, list) = RunAsync("ip", "netns", "list").GetAwaiter().GetResult();
            foreach (var ns in list.Split('\n').Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(_vipPrefix + "-", StringComparison.Ordinal)))
            {
                var (_, pids) = RunAsync("ip", "netns", "pids", ns).GetAwaiter().GetResult();
                foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    RunAsync("kill", "-KILL", pid.Trim()).GetAwaiter().GetResult();
                }
                RunAsync("ip", "netns", "del", ns).GetAwaiter().GetResult();
            }
        }
        _http.Dispose();
        _state.Dispose();
    }

    [Fact]
    public async Task Up_serves_through_every_node_replicates_a_follower_write_and_down_leaves_nothing_running()
    {
        var up = await ScriptAsync("up.sh");
        Assert.True(up.Exit == 0, up.Output + NodeLogs());
        Assert.Contains("up: three nodes", up.Output, StringComparison.Ordinal);
        foreach (var ip in _ips)
        {
            Assert.Contains($"http://{ip}:9090/", up.Output, StringComparison.Ordinal);
        }

        var again = await ScriptAsync("up.sh");
        Assert.True(again.Exit == 0, again.Output);
        Assert.Contains("already up", again.Output, StringComparison.Ordinal);

        // A request through each node's proxy reaches one of the demo backends (the example's host-less route).
        var backendNames = _backendPorts.Select(p => $"backend-{p}").ToList();
        foreach (var ip in _ips)
        {
            var body = (await _http.GetStringAsync($"http://{ip}:8080/", TestContext.Current.CancellationToken)).Trim();
            Assert.Contains(body, backendNames);
        }

        // Every dashboard answers with its page.
        foreach (var ip in _ips)
        {
            using var page = await _http.GetAsync($"http://{ip}:9090/", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        }

        // The example config uses all four algorithms.
        var config = await _http.GetStringAsync($"http://{_ips[0]}:9090/api/config", TestContext.Current.CancellationToken);
        foreach (var algorithm in new[] { "round_robin", "sticky_cookie", "5_tuple_hash", "least_connection" })
        {
            Assert.Contains($"\"{algorithm}\"", config, StringComparison.Ordinal);
        }

        // A PUT on a follower is visible on all nodes.
        var cluster = await ClusterJson.GetAsync(_http, $"http://{_ips[0]}:9090/api/cluster");
        var leader = cluster.GetProperty("leader").GetProperty("id").GetString();
        var follower = Enumerable.Range(0, 3).First(i => $"node-{i + 1}" != leader);
        var put = await ClusterJson.PutAsync(_http, $"http://{_ips[follower]}:9090",
            ClusterJson.Config(["from-follower"], $"127.0.0.1:{_backendPorts[0]}", version: null));
        Assert.True(put.Status == HttpStatusCode.OK, put.Body);
        foreach (var ip in _ips)
        {
            await EventuallyAsync(async () => (await ClusterJson.ConfigAsync(_http, $"http://{ip}:9090")).RouteIds.SequenceEqual(["from-follower"]),
                $"{ip} shows the follower's write");
        }

        var pids = PidFiles().Select(f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(4, pids.Count); // three nodes and the backends' process
        var down = await ScriptAsync("down.sh");
        Assert.True(down.Exit == 0, down.Output);
        Assert.Contains("stopped 4 process(es)", down.Output, StringComparison.Ordinal);
        foreach (var pid in pids)
        {
            Assert.False(IsRunning(pid), $"process {pid} started by up.sh still runs after down.sh");
        }
        Assert.Empty(PidFiles());
        Assert.True(Directory.Exists(Path.Combine(_state.Path, "node1", "data")), "down.sh without --wipe keeps the data");
    }

    [Fact]
    public async Task Up_vip_serves_through_the_vip_from_the_client_namespace_and_down_leaves_no_process_or_namespace()
    {
        Assert.SkipWhen(NetnsUnavailable is not null, NetnsUnavailable ?? "");
        // Names unique to this run: the namespaces (and so their links and bridge) cannot clash with a parallel one.
        var prefix = $"lbd{Environment.ProcessId % 100000}";
        _vipPrefix = prefix;
        var up = await ScriptAsync("up.sh", "--vip");
        Assert.True(up.Exit == 0, up.Output + NodeLogs());
        Assert.Contains("up: three nodes", up.Output, StringComparison.Ordinal);
        Assert.Contains($"ip netns exec {prefix}-c curl -s http://10.250.16.100:8080/", up.Output, StringComparison.Ordinal);

        // From the client namespace, the VIP answers with one of the leader's demo backends.
        var (exit, body) = await RunAsync("ip", "netns", "exec", $"{prefix}-c", "curl", "-fsS", "--max-time", "5", "http://10.250.16.100:8080/");
        Assert.True(exit == 0, body);
        Assert.Matches("^backend-300[123]$", body.Trim());
        // Exactly one node namespace holds the VIP.
        var holders = 0;
        foreach (var n in new[] { "n1", "n2", "n3" })
        {
            var (_, addr) = await RunAsync("ip", "-n", $"{prefix}-{n}", "-o", "-4", "addr", "show", "dev", "eth0");
            holders += addr.Contains(" 10.250.16.100/24 ", StringComparison.Ordinal) ? 1 : 0;
        }
        Assert.Equal(1, holders);

        var again = await ScriptAsync("up.sh", "--vip");
        Assert.True(again.Exit == 0, again.Output);
        Assert.Contains("already up", again.Output, StringComparison.Ordinal);

        var pids = PidFiles().Select(f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(6, pids.Count); // three nodes and each node's demo backends
        var down = await ScriptAsync("down.sh", "--vip");
        Assert.True(down.Exit == 0, down.Output);
        Assert.Contains("stopped 6 process(es)", down.Output, StringComparison.Ordinal);
        Assert.Contains("deleted 5 network namespace(s)", down.Output, StringComparison.Ordinal);
        foreach (var pid in pids)
        {
            Assert.False(IsRunning(pid), $"process {pid} started by up.sh --vip still runs after down.sh --vip");
        }
        Assert.Empty(PidFiles());
        var (_, namespaces) = await RunAsync("ip", "netns", "list");
        Assert.DoesNotContain(prefix, namespaces, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(_state.Path, "node1", "data")), "down.sh --vip without --wipe keeps the data");
    }

    private string? _vipPrefix;

    /// <summary>Why network namespaces cannot be used here, or null when they can (CI runs as root).</summary>
    private static string? NetnsUnavailable { get; } = ProbeNetns();

    private static string? ProbeNetns()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return "up.sh --vip needs Linux and root (network namespaces); CI runs as root";
        }
        var name = $"lbdprobe{Environment.ProcessId}";
        var (added, output) = RunAsync("ip", "netns", "add", name).GetAwaiter().GetResult();
        if (added != 0)
        {
            return $"cannot create a network namespace here ({output.Trim()}); install iproute2 and run as root";
        }
        RunAsync("ip", "netns", "del", name).GetAwaiter().GetResult();
        return null;
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        return (process.ExitCode, await stdout + await stderr);
    }

    private IEnumerable<string> PidFiles() =>
        new[] { "backends.pid", "node1/pid", "node2/pid", "node3/pid", "node1/backends.pid", "node2/backends.pid", "node3/backends.pid" }
            .Select(f => Path.Combine(_state.Path, f)).Where(File.Exists);

    private string NodeLogs() =>
        string.Concat(new[] { "backends.log", "node1/log", "node2/log", "node3/log", "node1/backends.log" }.Select(f => Path.Combine(_state.Path, f))
            .Where(File.Exists).Select(f => $"\n--- {f}\n{File.ReadAllText(f)}"));

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static int FreeLocalhostPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private async Task<(int Exit, string Output)> ScriptAsync(string script, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { WorkingDirectory = _root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(_root, "samples", "cluster", script));
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        if (_vipPrefix is not null)
        {
            info.Environment["LB_DEMO_NS"] = _vipPrefix;
        }
        info.Environment["LB_DEMO_STATE"] = _state.Path;
        info.Environment["LB_DEMO_IPS"] = string.Join(' ', _ips);
        info.Environment["LB_DEMO_PROXY_PORTS"] = "8080 8080 8080";
        info.Environment["LB_DEMO_ADMIN_PORTS"] = "9090 9090 9090";
        info.Environment["LB_DEMO_RAFT_PORTS"] = "7000 7000 7000";
        info.Environment["LB_DEMO_BACKEND_PORTS"] = string.Join(' ', _backendPorts);
        info.Environment["LB_DEMO_NO_BUILD"] = "1"; // the test run built everything already
        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // A bound for a loaded machine, not a speed check.
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"not within 30 s: {what}");
            await Task.Delay(100);
        }
    }
}

[CollectionDefinition(nameof(ClusterDemoScriptTests), DisableParallelization = true)]
public sealed class ClusterDemoScriptCollection;
