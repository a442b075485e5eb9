using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

/// <summary>
/// Leader failover between real processes: three <c>lb serve</c> processes (the built samples/Lb.Server), each on its
/// own loopback address, formed into a cluster through the admin API as the CLI does. Each trial SIGKILLs the leader's
/// process and times until a PUT on a surviving node succeeds (the survivor forwards it to whichever node leads by
/// then); the killed node is restarted and caught up before the next trial.
/// </summary>
internal static class ProcessFailoverBench
{
    public static async Task RunAsync(int trials, string? timing)
    {
        var lbDll = Path.GetFullPath(Path.Combine("samples", "Lb.Server", "bin", "Release", "net10.0", "lb.dll"));
        if (!File.Exists(lbDll))
        {
            throw new InvalidOperationException($"{lbDll} is missing: run 'dotnet build -c Release samples/Lb.Server' from the repository root first");
        }
        var root = Directory.CreateTempSubdirectory("lb-raft-failover-").FullName;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var nodes = new List<Node>();
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                var node = new Node($"node-{i}", Path.Combine(root, $"node-{i}"), $"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}", lbDll);
                await node.StartAsync(http);
                nodes.Add(node);
            }
            var timingJson = timing is null ? "" : $",\"raft_timing\":{timing}";
            await PostAsync(http, nodes[0].Admin + "/api/cluster/bootstrap", $"{{\"node_id\":\"node-1\",\"raft_advertise_addr\":\"{nodes[0].Raft}\",\"raft_bind_addr\":\"{nodes[0].Raft}\"{timingJson}}}");
            foreach (var node in nodes.Skip(1))
            {
                await PostAsync(http, node.Admin + "/api/node/join-cluster",
                    $"{{\"node_id\":\"{node.Id}\",\"raft_advertise_addr\":\"{node.Raft}\",\"raft_bind_addr\":\"{node.Raft}\",\"peers\":[\"{nodes[0].Admin}\"]}}");
            }
            var cluster = await http.GetFromJsonAsync<JsonElement>(nodes[0].Admin + "/api/cluster");
            Console.WriteLine($"cluster formed; timing {cluster.GetProperty("raft_timing").GetRawText()}; load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");

            var port = 30_000;
            var samples = new List<double>();
            var elected = new List<double>();
            for (var t = 0; t < trials; t++)
            {
                var leader = await LeaderAsync(http, nodes);
                var survivor = nodes.First(n => n != leader);
                leader.Kill();
                var clock = Stopwatch.StartNew();
                using var watching = new CancellationTokenSource();
                var newLeader = WaitForNewLeaderAsync(http, survivor, leader.Id, clock, watching.Token);
                while (!await TryPutAsync(http, survivor, port++))
                {
                }
                var written = clock.Elapsed.TotalMilliseconds;
                await watching.CancelAsync();
                var electedAfter = await newLeader;
                samples.Add(written);
                if (electedAfter is { } ms)
                {
                    elected.Add(ms);
                }
                Console.WriteLine(FormattableString.Invariant(
                    $"trial {t + 1}: killed {leader.Id}, {survivor.Id} saw a new leader after {electedAfter?.ToString("F0", CultureInfo.InvariantCulture) ?? "?"} ms, a write on it succeeded after {written:F0} ms"));
                await leader.StartAsync(http);
                var target = await VersionAsync(http, survivor);
                while (await VersionAsync(http, leader) < target)
                {
                    await Task.Delay(50);
                }
                await Task.Delay(1000);
            }
            samples.Sort();
            elected.Sort();
            Console.WriteLine(FormattableString.Invariant(
                $"failover (SIGKILL of the leader process -> first successful PUT on a survivor): n={samples.Count} median={Median(samples):F0} ms max={samples[^1]:F0} ms min={samples[0]:F0} ms; load average at end: {File.ReadAllText("/proc/loadavg").Trim()}"));
            if (elected.Count > 0)
            {
                Console.WriteLine(FormattableString.Invariant(
                    $"  of which: the survivor named the new leader after median={Median(elected):F0} ms max={elected[^1]:F0} ms (the rest: the write's forwarding, the new term's first commit and the write's own commit)"));
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Kill();
            }
            Directory.Delete(root, recursive: true);
        }
    }

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>Polls the survivor until it names a leader other than the killed node; the time since the kill, or null.</summary>
    private static async Task<double?> WaitForNewLeaderAsync(HttpClient http, Node survivor, string killed, Stopwatch clock, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var cluster = await http.GetFromJsonAsync<JsonElement>(survivor.Admin + "/api/cluster", cancellationToken);
                if (cluster.TryGetProperty("leader", out var leader) && leader.TryGetProperty("id", out var id)
                    && id.GetString() is { Length: > 0 } name && name != killed)
                {
                    return clock.Elapsed.TotalMilliseconds;
                }
                await Task.Delay(5, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException or JsonException)
            {
            }
        }
        return null;
    }

    private static async Task<Node> LeaderAsync(HttpClient http, List<Node> nodes)
    {
        while (true)
        {
            foreach (var node in nodes)
            {
                try
                {
                    var cluster = await http.GetFromJsonAsync<JsonElement>(node.Admin + "/api/cluster");
                    if (cluster.GetProperty("local").TryGetProperty("state", out var state) && state.GetString() == "leader")
                    {
                        return node;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }
            }
            await Task.Delay(50);
        }
    }

    private static async Task<long> VersionAsync(HttpClient http, Node node)
    {
        while (true)
        {
            try
            {
                return (await http.GetFromJsonAsync<JsonElement>(node.Admin + "/api/config")).GetProperty("version").GetInt64();
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(50);
            }
        }
    }

    private static async Task<bool> TryPutAsync(HttpClient http, Node node, int port)
    {
        var body = "{\"routes\":[{\"id\":\"web\",\"enabled\":true,\"match\":{\"hosts\":[\"example.test\"]},\"upstream_pool\":\"web\"}],"
            + "\"upstream_pools\":{\"web\":{\"upstreams\":[\"127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture) + "\"]}}}";
        try
        {
            using var response = await http.PutAsync(node.Admin + "/api/config", new StringContent(body, Encoding.UTF8, "application/json"));
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task PostAsync(HttpClient http, string url, string json)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var response = await client.PostAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private sealed class Node(string id, string directory, string ip, string lbDll)
    {
        private Process? _process;

        public string Id { get; } = id;
        public string Admin => $"http://{ip}:9090";
        public string Raft => $"{ip}:7000";

        public async Task StartAsync(HttpClient http)
        {
            Directory.CreateDirectory(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "app.json"),
                $$"""{"proxyListenAddr":"127.0.0.1:0","dashboardListenAddr":"{{ip}}:9090","raftDataDir":"data","nodeId":"{{Id}}"}""");
            var info = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(lbDll);
            info.ArgumentList.Add("serve");
            info.ArgumentList.Add("app.json");
            info.ArgumentList.Add("--log-level");
            info.ArgumentList.Add("warning");
            _process = Process.Start(info)!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var ready = await http.GetAsync(Admin + "/api/node/cluster-status");
                    if (ready.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }
                if (_process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60))
                {
                    throw new InvalidOperationException($"{Id} did not start");
                }
                await Task.Delay(100);
            }
        }

        public void Kill()
        {
            if (_process is { HasExited: false } p)
            {
                p.Kill(); // SIGKILL
                p.WaitForExit();
            }
        }
    }
}
