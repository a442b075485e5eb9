using System.Net;
using System.Text;
using System.Text.Json;

namespace Lb.IntegrationTests;

/// <summary>The cluster lifecycle endpoints of a node with the Raft store (one process, real Raft on loopback).</summary>
public sealed class RaftLifecycleApiTests : IAsyncLifetime
{
    private LbServer _lb = null!;

    public async ValueTask InitializeAsync() => _lb = await LbServer.StartAsync();

    public async ValueTask DisposeAsync() => await _lb.DisposeAsync();

    private static string RaftAddress() => $"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}:7000";

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string json)
    {
        using var response = await _lb.Admin.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Theory]
    [InlineData("""{"raft_advertise_addr":"127.0.0.1:7000"}""", "invalid_request", "node_id and raft_advertise_addr are required")]
    [InlineData("""{"node_id":"node 1","raft_advertise_addr":"127.0.0.1:7000"}""", "invalid_node_id", "node_id must contain only letters, numbers, dot, underscore, or hyphen")]
    [InlineData("""{"node_id":"node-1","raft_advertise_addr":"127.0.0.1"}""", "invalid_raft_address", "raft_advertise_addr must be a host:port TCP address")]
    [InlineData("""{"node_id":"node-1","raft_advertise_addr":"127.0.0.1:7000","raft_timing":{"heartbeat_timeout":"3s"}}""", "invalid_raft_timing", "raft election timeout must be greater than or equal to heartbeat timeout")]
    [InlineData("""{"node_id":"node-1","raft_advertise_addr":"127.0.0.1:7000","vip":{"address":"10.0.0.100/24"}}""", "invalid_request", "vip_interface is required when vip is provided")]
    [InlineData("""{"node_id":"node-1","raft_advertise_addr":"127.0.0.1:7000","vip_interface":"eth0","vip":{"address":"10.0.0.100"}}""", "invalid_vip", "vip address must be CIDR")]
    [InlineData("""{"node_id":"node-1","raft_advertise_addr":"127.0.0.1:7000","vip_interface":"eth0","vip":{"address":"fd00::100/64"}}""", "invalid_vip", "vip address must be IPv4")]
    [InlineData("""{"node_id":"node-1","raft_advertise_addr":"127.0.0.1:7000","vip_interface":"eth0","vip":{"address":"10.0.0.100/24","garp_count":-1}}""", "invalid_vip", "vip garp count must be at least 1")]
    [InlineData("""{"node_id":"node-1","raft_advertise_addr":"127.0.0.1:7000","vip_interface":"eth0","vip":{"address":"10.0.0.100/24","acquire_delay":"soon"}}""", "invalid_vip", "vip acquire delay must be a duration")]
    [InlineData("""{"node_id":"node-1","raft_advertise_addr":"127.0.0.1:7000","vip_interface":"eth0/1","vip":{"address":"10.0.0.100/24"}}""", "invalid_vip", "vip interface must be a Linux interface name")]
    public async Task Bootstrap_rejects_bad_requests_with_the_contract_codes_and_stays_standalone(string body, string code, string message)
    {
        var (status, answer) = await PostAsync("/api/cluster/bootstrap", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(code, answer.GetProperty("code").GetString());
        Assert.Equal(message, answer.GetProperty("message").GetString());
        var node = await _lb.GetJsonAsync<JsonElement>("/api/node/cluster-status");
        Assert.Equal("unconfigured", node.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Bootstrap_keeps_the_standalone_configuration_and_its_version_and_a_second_bootstrap_is_refused()
    {
        await _lb.PutConfigAsync(Configs.SingleRoute("a.test", "round_robin", ["127.0.0.1:9"]));
        await _lb.PutConfigAsync(Configs.SingleRoute("b.test", "round_robin", ["127.0.0.1:9"]));
        var before = await _lb.GetJsonAsync<JsonElement>("/api/config");
        var address = RaftAddress();

        var (status, _) = await PostAsync("/api/cluster/bootstrap", $$"""{"node_id":"node-1","raft_advertise_addr":"{{address}}","raft_bind_addr":"{{address}}"}""");

        Assert.Equal(HttpStatusCode.NoContent, status);
        var after = await _lb.GetJsonAsync<JsonElement>("/api/config");
        Assert.Equal(before.GetProperty("version").GetInt64(), after.GetProperty("version").GetInt64());
        Assert.Equal(before.GetProperty("routes").GetRawText(), after.GetProperty("routes").GetRawText());
        var cluster = await _lb.GetJsonAsync<JsonElement>("/api/cluster");
        Assert.Equal("leader", cluster.GetProperty("local").GetProperty("state").GetString());
        Assert.Equal("available", cluster.GetProperty("quorum_status").GetString());
        Assert.Equal(address, cluster.GetProperty("members")[0].GetProperty("address").GetString());
        var node = await _lb.GetJsonAsync<JsonElement>("/api/node/cluster-status");
        Assert.Equal("clustered", node.GetProperty("state").GetString());

        await _lb.PutConfigAsync(Configs.SingleRoute("c.test", "round_robin", ["127.0.0.1:9"]));
        var written = await _lb.GetJsonAsync<JsonElement>("/api/config");
        Assert.Equal(before.GetProperty("version").GetInt64() + 1, written.GetProperty("version").GetInt64());

        var (again, answer) = await PostAsync("/api/cluster/bootstrap", $$"""{"node_id":"node-1","raft_advertise_addr":"{{RaftAddress()}}"}""");
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Equal("cluster_already_configured", answer.GetProperty("code").GetString());
        using var metrics = await _lb.Admin.GetAsync("/metrics", TestContext.Current.CancellationToken);
        var text = await metrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("lb_raft_is_leader 1", text, StringComparison.Ordinal);
        Assert.Contains("lb_raft_term ", text, StringComparison.Ordinal);
        Assert.Contains("lb_raft_commit_index ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_vip_field_is_named_by_its_path_and_a_good_policy_lands_in_the_replicated_state()
    {
        var (status, answer) = await PostAsync("/api/cluster/bootstrap",
            """{"node_id":"node-1","raft_advertise_addr":"127.0.0.1:7000","vip_interface":"eth0","vip":{"address":"10.0.0.100/24","garp_interval":"often"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("vip.garp_interval", answer.GetProperty("errors")[0].GetProperty("field").GetString());
        var (join, joinAnswer) = await PostAsync("/api/node/join-cluster",
            """{"node_id":"node-2","raft_advertise_addr":"127.0.0.1:7000","vip_interface":"a very long interface name","peers":["http://127.0.0.1:1"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, join);
        Assert.Equal("invalid_vip", joinAnswer.GetProperty("code").GetString());
        Assert.Equal("vip_interface", joinAnswer.GetProperty("errors")[0].GetProperty("field").GetString());

        var address = RaftAddress();
        (status, _) = await PostAsync("/api/cluster/bootstrap",
            $$$"""{"node_id":"node-1","raft_advertise_addr":"{{{address}}}","raft_bind_addr":"{{{address}}}","vip_interface":"lbtest0","vip":{"address":"10.0.0.100/24","garp_count":2}}""");

        Assert.Equal(HttpStatusCode.NoContent, status);
        // The policy is part of the replicated desired state, which every member's Lb.Vip reads.
        var store = (Lb.Core.Store.IDesiredStateStore)_lb.Services.GetService(typeof(Lb.Core.Store.IDesiredStateStore))!;
        Assert.Equal("10.0.0.100/24", store.Current.State.Vip?.Address);
        Assert.Equal(2, store.Current.State.Vip?.GarpCount);
        // Lb.Vip picks the policy up from the applied state on its own schedule: /api/status shows it shortly after.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonElement shown = default;
        while (!((await _lb.GetJsonAsync<JsonElement>("/api/status")).TryGetProperty("vip", out var vip) && vip.TryGetProperty("address", out shown)))
        {
            Assert.True(DateTime.UtcNow < deadline, "/api/status never showed the VIP policy's address");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        Assert.Equal("10.0.0.100/24", shown.GetString());
    }

    [Fact]
    public async Task Joining_with_a_local_configuration_is_refused_unless_forced()
    {
        await _lb.PutConfigAsync(Configs.SingleRoute("a.test", "round_robin", ["127.0.0.1:9"]));

        var (status, answer) = await PostAsync("/api/node/join-cluster", $$"""{"node_id":"node-2","raft_advertise_addr":"{{RaftAddress()}}","peers":["http://127.0.0.1:1"]}""");

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("local_config_not_empty", answer.GetProperty("code").GetString());
        Assert.Contains("--force", answer.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_add_on_a_standalone_node_answers_not_raft_leader()
    {
        var (status, answer) = await PostAsync("/api/cluster/join", """{"node_id":"node-2","raft_address":"127.0.0.1:7002"}""");

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("not_raft_leader", answer.GetProperty("code").GetString());
    }
}

public sealed class RaftLifecycleTokenTests : IAsyncLifetime
{
    private const string Token = "raft-lifecycle-token-123456";
    private LbServer _lb = null!;

    public async ValueTask InitializeAsync() => _lb = await LbServer.StartAsync(admin: o => o.AdminToken = Token);

    public async ValueTask DisposeAsync() => await _lb.DisposeAsync();

    [Fact]
    public async Task Bootstrap_needs_the_admin_token_when_one_is_configured()
    {
        using var response = await _lb.Admin.PostAsync("/api/cluster/bootstrap",
            new StringContent("""{"node_id":"node-1","raft_advertise_addr":"127.0.0.1:7000"}""", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
