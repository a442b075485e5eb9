using System.Net;
using System.Net.Sockets;
using Lb.Core.Validation;
using Lb.Raft.Node;
using Lb.Raft.StateMachine;
using Lb.Raft.Store;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Raft.Tests;

/// <summary>
/// Real Raft nodes in this process, each on its own loopback address (127.x.y.z, all local on Linux) so the Raft
/// port can be fixed without racing for a free one. Forwarded writes go straight to the target node's store.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("lb-raft-").FullName;
    private readonly Dictionary<string, TestNode> _nodes = new(StringComparer.Ordinal);

    public IReadOnlyCollection<TestNode> Nodes => _nodes.Values;

    public TestNode this[string id] => _nodes[id];

    /// <summary>Versions each node keeps in its replicated history.</summary>
    public int HistoryLimit { get; init; } = 50;

    public async Task<TestNode> StartAsync(string id, bool coldStart, EndPoint? address = null, RaftTlsFiles? tls = null)
    {
        var dataDir = Path.Combine(_root, id);
        for (var attempt = 0; ; attempt++)
        {
            var advertise = address ?? new IPEndPoint(IPAddress.Parse($"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}"), 7000);
            var settings = new RaftNodeSettings
            {
                DataDirectory = dataDir,
                NodeId = id,
                Bind = advertise,
                Advertise = advertise,
                AdminUrl = $"inproc://{id}",
                ColdStart = coldStart,
                SnapshotEvery = 50,
                HistoryLimit = HistoryLimit,
                Tls = tls,
            };
            try
            {
                var node = await RaftNode.StartAsync(settings, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
                var store = new RaftDesiredStateStore(node, new InProcessForwarder(this), NullLogger.Instance, TimeProvider.System, TimeSpan.FromMilliseconds(1800), dataDir);
                var testNode = new TestNode(id, node, store);
                _nodes[id] = testNode;
                return testNode;
            }
            catch (SocketException) when (address is null && attempt < 5)
            {
                // Someone holds this address: pick another one.
            }
        }
    }

    public async Task StopAsync(string id)
    {
        await _nodes[id].Store.DisposeAsync();
        _nodes.Remove(id);
    }

    public async Task<TestNode> RestartAsync(string id)
    {
        var (address, tls) = (_nodes[id].Node.Settings.Advertise, _nodes[id].Node.Settings.Tls);
        await StopAsync(id);
        return await StartAsync(id, coldStart: false, address, tls);
    }

    /// <summary>
    /// Forms a cluster of <paramref name="ids"/>: the first bootstraps, the others join as voters one by one. A leader
    /// change while adding (a long pause on a loaded machine) answers NotLeader: the new leader is asked. Returns the
    /// leader once all have joined.
    /// </summary>
    public async Task<TestNode> FormAsync(string[] ids, Func<string, RaftTlsFiles?>? tls = null)
    {
        await StartAsync(ids[0], coldStart: true, tls: tls?.Invoke(ids[0]));
        await WaitForLeaderAsync();
        foreach (var id in ids.Skip(1))
        {
            var joiner = await StartAsync(id, coldStart: false, tls: tls?.Invoke(id));
            var change = MembershipChange.NotLeader;
            for (var attempt = 0; change == MembershipChange.NotLeader && attempt < 5; attempt++)
            {
                var leader = await WaitForLeaderAsync();
                change = await leader.Store.AddMemberAsync(joiner.Address, CancellationToken.None);
            }
            Assert.Equal(MembershipChange.Done, change);
        }
        return await WaitForLeaderAsync();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <paramref name="patience"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan patience)
    {
        using var cts = new CancellationTokenSource(patience);
        while (!condition())
        {
            try
            {
                await Task.Delay(10, cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"timed out waiting until {what}");
            }
        }
    }

    public async Task<TestNode> WaitForLeaderAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var leaders = _nodes.Values.Where(n => n.Node.IsLeader).ToList();
            if (leaders.Count == 1)
            {
                return leaders[0];
            }
            await Task.Delay(20, cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            await node.Store.DisposeAsync();
        }
        _nodes.Clear();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class InProcessForwarder(TestCluster cluster) : IPeerClient
    {
        public Task NotifyRemovedAsync(string adminUrl, CancellationToken cancellationToken)
        {
            var target = cluster._nodes.Values.FirstOrDefault(n => n.Node.Settings.AdminUrl == adminUrl)
                ?? throw new HttpRequestException($"no node answers at {adminUrl}");
            target.Node.MarkRemoved();
            return Task.CompletedTask;
        }

        public Task<ForwardedWrite> ForwardAsync(LeaderInfo leader, PutCommand command, CancellationToken cancellationToken)
        {
            var target = cluster._nodes.Values.FirstOrDefault(n => n.Node.Settings.AdminUrl == leader.AdminUrl);
            return target is null
                ? throw new HttpRequestException($"no node answers at {leader.AdminUrl}")
                : target.Store.ProposeForwardedAsync(command, cancellationToken);
        }
    }
}

internal sealed record TestNode(string Id, RaftNode Node, RaftDesiredStateStore Store)
{
    public EndPoint Address => Node.Settings.Advertise;
}
