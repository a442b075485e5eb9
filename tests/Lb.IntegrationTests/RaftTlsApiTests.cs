using System.Net;
using System.Text;
using System.Text.Json;
using Lb.Core.Options;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// Mutual TLS on the Raft port through the node options (<c>raftTlsCertificate</c>, <c>raftTlsKey</c>,
/// <c>raftTlsCa</c>): three servers in this process form a cluster over the admin API; outsiders cannot join it.
/// </summary>
public sealed class RaftTlsApiTests : IAsyncLifetime
{
    private readonly TestPki _pki = new("lb-it-cluster-ca");
    private readonly TestPki _foreign = new("lb-it-foreign-ca");
    private readonly List<LbServer> _nodes = [];

    public async ValueTask InitializeAsync()
    {
        for (var i = 1; i <= 3; i++)
        {
            _nodes.Add(await StartAsync($"node-{i}", _pki.Issue($"node-{i}")));
        }
        var first = RaftAddress();
        await PostOkAsync(_nodes[0], "/api/cluster/bootstrap", $$"""{"node_id":"node-1","raft_advertise_addr":"{{first}}","raft_bind_addr":"{{first}}"}""");
        for (var i = 1; i < 3; i++)
        {
            var (status, body) = await JoinAsync(_nodes[i], $"node-{i + 1}");
            Assert.True(status == HttpStatusCode.NoContent, $"join answered {(int)status}: {body}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        _pki.Dispose();
        _foreign.Dispose();
    }

    private static Task<LbServer> StartAsync(string id, TestPemFiles? tls) => LbServer.StartAsync(o =>
    {
        o.NodeId = id;
        if (tls is not null)
        {
            o.RaftTlsCertificate = tls.Certificate;
            o.RaftTlsKey = tls.Key;
            o.RaftTlsCa = tls.Ca;
        }
    });

    private static string RaftAddress() => $"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}:7000";

    /// <summary>A refused join retries the leader for 30 s before it answers, so this client waits longer than the default.</summary>
    private async Task<(HttpStatusCode Status, string Body)> JoinAsync(LbServer node, string id)
    {
        var address = RaftAddress();
        using var admin = new HttpClient { BaseAddress = node.AdminUri, Timeout = TimeSpan.FromMinutes(3) };
        var json = $$"""{"node_id":"{{id}}","raft_advertise_addr":"{{address}}","raft_bind_addr":"{{address}}","peers":["{{_nodes[0].AdminUri}}"]}""";
        using var response = await admin.PostAsync("/api/node/join-cluster", new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(LbServer node, string path, string json)
    {
        using var response = await node.Admin.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static async Task PostOkAsync(LbServer node, string path, string json)
    {
        var (status, body) = await PostAsync(node, path, json);
        Assert.True((int)status is >= 200 and < 300, $"POST {path} answered {(int)status}: {body}");
    }

    private static async Task<long> EventuallyAtVersionAsync(LbServer node, long version)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var config = await node.GetJsonAsync<JsonElement>("/api/config");
            if (config.GetProperty("version").GetInt64() >= version)
            {
                return config.GetProperty("version").GetInt64();
            }
            await Task.Delay(20, cts.Token);
        }
    }

    private async Task AssertClusterServesWritesAsync()
    {
        var cluster = await _nodes[0].GetJsonAsync<JsonElement>("/api/cluster");
        Assert.Equal(3, cluster.GetProperty("members").GetArrayLength());
        var before = (await _nodes[2].GetJsonAsync<JsonElement>("/api/config")).GetProperty("version").GetInt64();
        await _nodes[2].PutConfigAsync(Configs.SingleRoute("tls.test", "round_robin", ["127.0.0.1:9"]));
        foreach (var node in _nodes)
        {
            Assert.Equal(before + 1, await EventuallyAtVersionAsync(node, before + 1));
        }
    }

    [Fact]
    public async Task Three_TLS_members_replicate_a_write_on_a_follower_to_all_three()
    {
        await AssertClusterServesWritesAsync();
    }

    [Fact]
    public async Task A_node_with_a_certificate_from_another_CA_cannot_join_and_the_error_names_the_TLS_settings()
    {
        await using var outsider = await StartAsync("intruder", _foreign.Issue("intruder"));

        var (status, body) = await JoinAsync(outsider, "intruder");

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("\"raft_tls_rejected\"", body, StringComparison.Ordinal);
        Assert.Contains("raftTlsCa", body, StringComparison.Ordinal);
        var state = await outsider.GetJsonAsync<JsonElement>("/api/node/cluster-status");
        Assert.Equal("unconfigured", state.GetProperty("state").GetString());
        await AssertClusterServesWritesAsync();
    }

    [Fact]
    public async Task A_node_trusting_the_cluster_CA_with_a_certificate_from_another_CA_is_refused_by_the_leader_and_told_why()
    {
        await using var outsider = await StartAsync("intruder", _foreign.Issue("intruder") with { Ca = _pki.CaFile });

        var (status, body) = await JoinAsync(outsider, "intruder");

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("\"raft_tls_rejected\"", body, StringComparison.Ordinal);
        Assert.Contains("issue the member's certificate from the cluster CA", body, StringComparison.Ordinal);
        var state = await outsider.GetJsonAsync<JsonElement>("/api/node/cluster-status");
        Assert.Equal("unconfigured", state.GetProperty("state").GetString());
        await AssertClusterServesWritesAsync();
    }

    [Fact]
    public async Task A_plain_TCP_node_cannot_join_a_TLS_cluster()
    {
        await using var plain = await StartAsync("plain", tls: null);

        var (status, body) = await JoinAsync(plain, "plain");

        Assert.False((int)status is >= 200 and < 300, $"join of a plain node answered {(int)status}: {body}");
        await AssertClusterServesWritesAsync();
    }
}
