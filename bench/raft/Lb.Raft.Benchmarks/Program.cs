using System.Diagnostics;
using System.Globalization;
using System.Net;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Core.Validation;
using Lb.Raft.Node;
using Lb.Raft.StateMachine;
using Lb.Raft.Store;
using Microsoft.Extensions.Logging.Abstractions;

// Raft measurements on three in-process nodes over loopback TCP (each on its own 127.x.y.z:7000):
//   propagation: PUT on a follower -> all three nodes applied the new version (200 writes);
//   failover:    stop the leader's Raft node -> first successful write on a survivor (20 trials).
//   `scale N M`: on a 10,000-route config, N route-level changes and M whole-document writes on a follower -> all three runtime snapshots built.
//   `process-failover N [timing-json]`: three lb processes, SIGKILL the leader -> first successful PUT on a survivor.
if (args.Length > 0 && args[0] == "process-failover")
{
    await ProcessFailoverBench.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20, args.Length > 2 ? args[2] : null);
    return;
}
if (args.Length > 0 && args[0] == "scale")
{
    await ScaleBench.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 50);
    return;
}
var writes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var trials = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
var root = Directory.CreateTempSubdirectory("lb-raft-bench-").FullName;
var nodes = new Dictionary<string, (RaftNode Node, RaftDesiredStateStore Store)>();
var peers = new InProcessPeers(nodes);

async Task<(RaftNode, RaftDesiredStateStore)> StartAsync(string id, EndPoint address, bool cold)
{
    var node = await RaftNode.StartAsync(new RaftNodeSettings
    {
        DataDirectory = Path.Combine(root, id), NodeId = id, Bind = address, Advertise = address, AdminUrl = id, ColdStart = cold,
    }, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
    var store = new RaftDesiredStateStore(node, peers, NullLogger.Instance, TimeProvider.System, TimeSpan.FromMilliseconds(1800), root);
    nodes[id] = (node, store);
    return (node, store);
}

var addresses = Enumerable.Range(1, 3).ToDictionary(i => $"node-{i}",
    _ => (EndPoint)new IPEndPoint(IPAddress.Parse($"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}"), 7000));
await StartAsync("node-1", addresses["node-1"], cold: true);
while (!nodes["node-1"].Node.IsLeader)
{
    await Task.Delay(10);
}
foreach (var id in new[] { "node-2", "node-3" })
{
    var (node, _) = await StartAsync(id, addresses[id], cold: false);
    if (await nodes["node-1"].Store.AddMemberAsync(node.Settings.Advertise, CancellationToken.None) != MembershipChange.Done)
    {
        throw new InvalidOperationException($"{id} was not added");
    }
}

static DesiredState State(int port) => DesiredStateJson.ParseState(System.Text.Encoding.UTF8.GetBytes(
    "{\"config\":{\"routes\":[{\"id\":\"web\",\"enabled\":true,\"match\":{\"hosts\":[\"example.test\"]},\"upstream_pool\":\"web\"}],"
    + "\"upstream_pools\":{\"web\":{\"upstreams\":[\"127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture) + "\"]}}}}")).Value!;

async Task<string> LeaderAsync()
{
    while (true)
    {
        var leader = nodes.FirstOrDefault(n => n.Value.Node.IsLeader).Key;
        if (leader is not null)
        {
            return leader;
        }
        await Task.Delay(5);
    }
}

// Propagation.
var leaderId = await LeaderAsync();
var follower = nodes.First(n => n.Key != leaderId).Value.Store;
var propagation = new List<double>();
for (var i = 0; i < writes + 20; i++)
{
    var clock = Stopwatch.StartNew();
    var result = await follower.PutAsync(State(10_000 + i));
    if (!result.Succeeded)
    {
        throw new InvalidOperationException(result.Message);
    }
    var version = result.Current.Version;
    await Task.WhenAll(nodes.Values.Select(async n =>
    {
        var current = n.Store.Current;
        while (current.Version < version)
        {
            current = await n.Store.WaitForChangeAsync(current.Version);
        }
    }));
    if (i >= 20)
    {
        propagation.Add(clock.Elapsed.TotalMilliseconds);
    }
}
Report("propagation (PUT on a follower -> applied on all 3)", propagation);

// Failover.
var failover = new List<double>();
var port = 20_000;
for (var t = 0; t < trials; t++)
{
    leaderId = await LeaderAsync();
    var address = nodes[leaderId].Node.Settings.Advertise;
    var survivor = nodes.First(n => n.Key != leaderId).Value.Store;
    var clock = Stopwatch.StartNew();
    await nodes[leaderId].Store.DisposeAsync();
    nodes.Remove(leaderId);
    while (!(await survivor.PutAsync(State(port++))).Succeeded)
    {
    }
    failover.Add(clock.Elapsed.TotalMilliseconds);
    await StartAsync(leaderId, address, cold: false);
    var target = survivor.Current.Version;
    while (nodes[leaderId].Store.Current.Version < target)
    {
        await Task.Delay(10);
    }
    await Task.Delay(500);
}
Report("failover (leader stopped -> first successful write on a survivor)", failover);

foreach (var n in nodes.Values)
{
    await n.Store.DisposeAsync();
}
Directory.Delete(root, recursive: true);

static void Report(string name, List<double> samples)
{
    samples.Sort();
    double At(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
    Console.WriteLine(FormattableString.Invariant($"{name}: n={samples.Count} p50={At(0.5):F2} ms p99={At(0.99):F2} ms max={samples[^1]:F2} ms"));
}

internal sealed class InProcessPeers(Dictionary<string, (RaftNode Node, RaftDesiredStateStore Store)> nodes) : IPeerClient
{
    public Task<ForwardedWrite> ForwardAsync(LeaderInfo leader, PutCommand command, CancellationToken cancellationToken) =>
        nodes.TryGetValue(leader.AdminUrl!, out var n) ? n.Store.ProposeForwardedAsync(command, cancellationToken) : throw new HttpRequestException("gone");

    public Task NotifyRemovedAsync(string adminUrl, CancellationToken cancellationToken) => Task.CompletedTask;
}
