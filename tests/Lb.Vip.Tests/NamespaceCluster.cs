using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Lb.TestSupport;
using static Tmds.Linux.LibC;

namespace Lb.Vip.Tests;

/// <summary>
/// A three-node Lb cluster as operators run one, in network namespaces: a switch namespace with a bridge, three node
/// namespaces, a backend namespace and a client namespace, each on its own veth pair, all in 10.250.15.0/24 (used only
/// here; the driver tests use 10.250.13.0/24 and the benchmark 10.250.14.0/24, so they can run side by side). Every node is
/// the built <c>lb.dll</c> started with <c>ip netns exec</c>, with <c>vipInterface</c>/<c>vipAddress</c> in its
/// <c>app.json</c>; the cluster is formed with <c>cluster bootstrap</c> and two <c>cluster join</c>s through the CLI. Everything
/// (processes, namespaces and with them the links, files) goes on dispose, also when setup fails half-way.
/// </summary>
internal sealed partial class NamespaceCluster : IAsyncDisposable
{
    public const string Subnet = "10.250.15";
    public const string Vip = $"{Subnet}.100";
    public const string VipCidr = $"{Vip}/24";
    public const int ProxyPort = 8080;
    private const string Token = "vip-namespace-cluster-token";
    private const string BackendIp = $"{Subnet}.60";

    private readonly NetnsLab _lab = new();
    private readonly TempDirectory _dir = new();
    private readonly List<Node> _nodes = [];
    private Socket? _backend;
    private readonly CancellationTokenSource _stop = new();

    private NamespaceCluster()
    {
    }

    public IReadOnlyList<Node> Nodes => _nodes;
    public string Client { get; private set; } = "";

    /// <summary>One Lb.Server process in its namespace.</summary>
    internal sealed class Node(string id, string ns, string ip, string directory)
    {
        public string Id { get; } = id;
        public string Ns { get; } = ns;
        public string Ip { get; } = ip;
        public string Directory { get; } = directory;
        public Process? Process { get; set; }
        public ProcessOutput? Output { get; set; }
        public override string ToString() => $"{Id} ({Ip})";
    }

    /// <summary>Builds the topology, starts the backend and the three nodes, forms the cluster and loads a route to the backend.</summary>
    public static async Task<NamespaceCluster> StartAsync()
    {
        var cluster = new NamespaceCluster();
        try
        {
            await cluster.SetUpAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task SetUpAsync()
    {
        var sw = _lab.Create("sw");
        _lab.Bridge(sw, "br0");
        Client = _lab.Create("c");
        _lab.Attach(sw, "br0", "c", Client, "eth0", $"{Subnet}.50/24");
        var backendNs = _lab.Create("be");
        _lab.Attach(sw, "br0", "be", backendNs, "eth0", $"{BackendIp}/24");
        var backendPort = StartBackend(backendNs);

        for (var i = 1; i <= 3; i++)
        {
            var id = $"n{i}";
            var ns = _lab.Create(id);
            var node = new Node(id, ns, $"{Subnet}.{10 + i}", Path.Combine(_dir.Path, id));
            _lab.Attach(sw, "br0", id, ns, "eth0", $"{node.Ip}/24");
            Directory.CreateDirectory(node.Directory);
            await File.WriteAllTextAsync(Path.Combine(node.Directory, "app.json"), $$"""
                { "proxyListenAddr": ":{{ProxyPort}}", "dashboardListenAddr": ":9090", "raftDataDir": "{{Path.Combine(node.Directory, "data")}}",
                  "nodeId": "{{id}}", "raftListenAddr": "{{node.Ip}}:7000", "raftAdvertiseAddr": "{{node.Ip}}:7000",
                  "vipInterface": "eth0", "vipAddress": "{{VipCidr}}", "adminToken": "{{Token}}" }
                """);
            _nodes.Add(node);
        }
        // Started together: three cold .NET starts one after another cost more than the whole failover.
        foreach (var node in _nodes)
        {
            Start(node);
        }
        foreach (var node in _nodes)
        {
            await node.Output!.WaitForAsync(ListeningOnAdmin());
        }

        var n1 = _nodes[0];
        await CliAsync(n1, "cluster", "bootstrap", "--dashboard", Admin(n1), "--node-id", n1.Id, "--raft-advertise", $"{n1.Ip}:7000");
        foreach (var node in _nodes.Skip(1))
        {
            await CliAsync(node, "cluster", "join", "--dashboard", Admin(node), "--node-id", node.Id, "--raft-advertise", $"{node.Ip}:7000",
                "--peer", Admin(n1));
        }
        var config = Path.Combine(_dir.Path, "config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "routes": [ { "id": "all", "enabled": true, "match": {}, "upstream_pool": "backend" } ],
              "upstream_pools": { "backend": { "upstreams": [ "{{BackendIp}}:{{backendPort}}" ] } } }
            """);
        await CliAsync(n1, "config", "put", config, "--dashboard", Admin(n1));
    }

    private static string Admin(Node node) => $"http://{node.Ip}:9090";

    [GeneratedRegex(@"lb: listening on http://\[::\]:(9090)")]
    private static partial Regex ListeningOnAdmin();

    private static void Start(Node node)
    {
        var info = new ProcessStartInfo("ip") { WorkingDirectory = node.Directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["netns", "exec", node.Ns, "dotnet", RepoPaths.BuiltDll(Path.Combine("samples", "Lb.Server"), "lb.dll"),
                     "serve", "app.json", "--log-level", "info"])
        {
            info.ArgumentList.Add(a);
        }
        // `ip netns exec` execs the command: this process id is the server's, so SIGKILL/SIGSTOP reach it directly.
        var process = Process.Start(info)!;
        node.Process = process;
        node.Output = new ProcessOutput(process);
    }

    /// <summary>Runs the CLI inside the node's namespace against its admin API; fails the test with its output on a non-zero exit.</summary>
    private static async Task CliAsync(Node node, params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["LB_ADMIN_TOKEN"] = Token;
        foreach (var a in (string[])["netns", "exec", node.Ns, "dotnet", RepoPaths.BuiltDll(Path.Combine("samples", "Lb.Server"), "lb.dll"), .. args])
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0,
            $"lb {string.Join(' ', args)} on {node} exited {process.ExitCode}: {await stdout}{await stderr}\nserver output:\n{node.Output}");
    }

    /// <summary>The nodes whose <c>eth0</c> carries the VIP right now.</summary>
    public IReadOnlyList<Node> Holders() => [.. _nodes.Where(n => _lab.Addresses(n.Ns, "eth0").Contains(VipCidr))];

    /// <summary>Waits until exactly one node holds the VIP and the client gets a good answer through it; returns that node.</summary>
    public async Task<Node> WaitForSingleOwnerAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var holders = Holders();
            if (holders.Count == 1 && Get() is { Status: 200 } answer && answer.Body == $"backend via {holders[0].Ip}")
            {
                return holders[0];
            }
            Assert.True(DateTime.UtcNow < deadline,
                $"no single VIP owner serving the backend (holders: {string.Join(", ", holders)})\n{Describe()}");
            await Task.Delay(100);
        }
    }

    public string Describe() => string.Join("\n", _nodes.Select(n => $"--- {n}:\n{n.Output}"));

    /// <summary>Takes the node's link down: with its process killed, a dead host as the rest of the LAN sees it.</summary>
    public void LinkDown(Node node) => NetnsLab.Ip($"-n {node.Ns} link set eth0 down");

    // ---- the backend, in its own namespace: answers every request with the address of the node that proxied it ----

    private int StartBackend(string ns)
    {
        // Created on a thread inside the namespace, the socket (and every connection it accepts) lives there.
        _backend = NetnsLab.In(ns, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse(BackendIp), 0));
            socket.Listen(128);
            return socket;
        });
        _ = AcceptAsync(_backend, _stop.Token);
        return ((IPEndPoint)_backend.LocalEndPoint!).Port;
    }

    private static async Task AcceptAsync(Socket listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = ServeAsync(connection, stop);
        }
    }

    private static async Task ServeAsync(Socket connection, CancellationToken stop)
    {
        using var _ = connection;
        var body = Encoding.ASCII.GetBytes($"backend via {((IPEndPoint)connection.RemoteEndPoint!).Address}");
        var response = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).ToArray();
        var buffer = new byte[8192];
        var pending = "";
        try
        {
            while (true)
            {
                var read = await connection.ReceiveAsync(buffer, stop);
                if (read == 0)
                {
                    return;
                }
                pending += Encoding.ASCII.GetString(buffer, 0, read);
                // Requests without bodies (GET): one answer per header block; the proxy keeps the connection alive.
                int end;
                while ((end = pending.IndexOf("\r\n\r\n", StringComparison.Ordinal)) >= 0)
                {
                    pending = pending[(end + 4)..];
                    await connection.SendAsync(response, stop);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    // ---- the client, in its own namespace ----

    /// <summary>One answer through the VIP as the client namespace sees it (status 0: none within the timeout).</summary>
    internal sealed record Answer(long At, int Status, string Body);

    /// <summary>One GET http://VIP:8080/ from the client namespace.</summary>
    public Answer Get() => NetnsLab.In(Client, () => GetOnce(TimeSpan.FromSeconds(2)));

    private static Answer GetOnce(TimeSpan timeout)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            if (!socket.ConnectAsync(IPAddress.Parse(Vip), ProxyPort).Wait(timeout))
            {
                return new Answer(Stopwatch.GetTimestamp(), 0, "connect timed out");
            }
            socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            socket.Send(Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {Vip}\r\nConnection: close\r\n\r\n"));
            var received = new MemoryStream();
            var buffer = new byte[4096];
            int read;
            while ((read = socket.Receive(buffer)) > 0)
            {
                received.Write(buffer, 0, read);
            }
            var text = Encoding.ASCII.GetString(received.ToArray());
            var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            var status = text.Split(' ', 3) is [_, var code, ..] && int.TryParse(code, out var parsed) ? parsed : 0;
            return new Answer(Stopwatch.GetTimestamp(), status, split < 0 ? "" : text[(split + 4)..]);
        }
        catch (Exception ex) when (ex is SocketException or AggregateException or IOException)
        {
            return new Answer(Stopwatch.GetTimestamp(), 0, ex.GetBaseException().Message);
        }
    }

    /// <summary>Probes the VIP from the client namespace every <paramref name="interval"/> until disposed.</summary>
    public Probe StartProbe(TimeSpan interval) => new(Client, interval);

    internal sealed class Probe : IDisposable
    {
        private readonly List<Answer> _answers = [];
        private readonly Thread _thread;
        private volatile bool _stopped;

        public Probe(string ns, TimeSpan interval)
        {
            _thread = new Thread(() =>
            {
                NetnsLab.Enter(ns);
                while (!_stopped)
                {
                    var started = Stopwatch.GetTimestamp();
                    // A short timeout: a SYN sent to the dead owner's MAC is lost, so the next probe must not wait for its retry.
                    var answer = GetOnce(TimeSpan.FromMilliseconds(100));
                    lock (_answers)
                    {
                        _answers.Add(answer);
                    }
                    var left = interval - Stopwatch.GetElapsedTime(started);
                    if (left > TimeSpan.Zero)
                    {
                        Thread.Sleep(left);
                    }
                }
            }) { IsBackground = true, Name = "vip probe" };
            _thread.Start();
        }

        /// <summary>The first answer after <paramref name="since"/> that satisfies <paramref name="good"/>; fails after 30 s.</summary>
        public async Task<Answer> FirstAsync(long since, Func<Answer, bool> good)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                lock (_answers)
                {
                    if (_answers.FirstOrDefault(a => a.At > since && good(a)) is { } found)
                    {
                        return found;
                    }
                }
                await Task.Delay(20);
            }
            lock (_answers)
            {
                Assert.Fail($"no such answer within 30 s; last answers: {string.Join("; ", _answers.TakeLast(5))}");
            }
            return null!;
        }

        public void Dispose()
        {
            _stopped = true;
            _thread.Join();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var node in _nodes)
        {
            if (node.Process is { HasExited: false } process)
            {
                kill(process.Id, SIGCONT);
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            node.Process?.Dispose();
        }
        _backend?.Dispose();
        _lab.Dispose();
        _dir.Dispose();
        _stop.Dispose();
    }
}
