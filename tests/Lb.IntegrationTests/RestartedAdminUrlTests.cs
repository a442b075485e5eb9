using System.Net;
using System.Text;
using System.Text.Json;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// Members whose admin listener is on port 0 get a new admin port at every start; writes forwarded to them must
/// follow (their Raft metadata is fixed when Raft starts, before the admin listener has bound).
/// </summary>
public sealed class RestartedAdminUrlTests : IAsyncLifetime
{
    private readonly List<TempDirectory> _dirs = [];
    private readonly LbServer?[] _nodes = new LbServer?[3];

    public async ValueTask InitializeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            _dirs.Add(new TempDirectory());
            _nodes[i] = await StartAsync(i);
        }
        var first = RaftAddress();
        await PostOkAsync(_nodes[0]!, "/api/cluster/bootstrap", $$"""{"node_id":"node-1","raft_advertise_addr":"{{first}}","raft_bind_addr":"{{first}}"}""");
        for (var i = 1; i < 3; i++)
        {
            var address = RaftAddress();
            await PostOkAsync(_nodes[i]!, "/api/node/join-cluster",
                $$"""{"node_id":"node-{{i + 1}}","raft_advertise_addr":"{{address}}","raft_bind_addr":"{{address}}","peers":["{{_nodes[0]!.AdminUri}}"]}""");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }
        foreach (var dir in _dirs)
        {
            dir.Dispose();
        }
    }

    private Task<LbServer> StartAsync(int i) => LbServer.StartAsync(o => o.NodeId = $"node-{i + 1}", dataDir: _dirs[i].Path);

    private static string RaftAddress() => $"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}:7000";

    private static async Task PostOkAsync(LbServer node, string path, string json)
    {
        using var response = await node.Admin.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
    }

    private static async Task<(HttpStatusCode Status, string Body)> PutPoolAsync(LbServer node, int port)
    {
        using var response = await node.Admin.PutAsync("/api/pools/web", new StringContent($$"""{"upstreams":["127.0.0.1:{{port}}"]}""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task After_every_member_restarts_on_new_admin_ports_writes_on_followers_are_forwarded_to_the_leader_again()
    {
        var before = _nodes.Select(n => n!.AdminUri).ToArray();
        for (var i = 0; i < 3; i++)
        {
            await _nodes[i]!.DisposeAsync();
            _nodes[i] = null;
        }
        for (var i = 0; i < 3; i++)
        {
            _nodes[i] = await StartAsync(i);
        }
        Assert.All(Enumerable.Range(0, 3), i => Assert.NotEqual(before[i], _nodes[i]!.AdminUri));

        // Writes on each follower reach the leader, whichever node it is: the leader's old admin port is gone, so this
        // only works once the restarted members published their new admin URLs. Retried while the cluster elects a
        // leader and the members publish (within generous bounds on a loaded machine).
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var followersWritten = 0;
        var port = 20_000;
        string last = "";
        while (followersWritten < 2)
        {
            Assert.False(deadline.IsCancellationRequested, $"no write forwarded from both followers within 60 s; last answer: {last}");
            followersWritten = 0;
            foreach (var node in _nodes)
            {
                var status = JsonDocument.Parse(await node!.Admin.GetStringAsync("/api/status", TestContext.Current.CancellationToken)).RootElement.GetProperty("raft");
                if (!status.GetProperty("has_leader").GetBoolean() || status.GetProperty("is_leader").GetBoolean())
                {
                    continue;
                }
                var (code, body) = await PutPoolAsync(node, port++);
                last = $"{(int)code} {body}";
                if (code == HttpStatusCode.OK)
                {
                    followersWritten++;
                }
            }
            if (followersWritten < 2)
            {
                await Task.Delay(200, TestContext.Current.CancellationToken);
            }
        }
    }
}
