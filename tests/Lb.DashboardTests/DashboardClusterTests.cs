using System.Text;
using System.Text.Json.Nodes;
using Lb.TestSupport;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lb.DashboardTests;

/// <summary>The dashboard of a follower in a three-process cluster: edits are forwarded to the leader.</summary>
public sealed class DashboardClusterTests
{
    private static string RaftAddress() => $"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}:7000";

    private static async Task PostOkAsync(LbProcess node, string path, string json)
    {
        using var response = await node.Admin.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
    }

    private static async Task<JsonNode> StatusAsync(LbProcess node) =>
        JsonNode.Parse(await node.Admin.GetStringAsync("/api/status", TestContext.Current.CancellationToken))!;

    [Fact]
    public async Task A_route_edited_in_a_followers_dashboard_is_forwarded_to_the_leader_and_served_by_every_node()
    {
        await using var backend = await TestBackend.StartAsync("cluster-backend");
        await using var first = await LbProcess.StartAsync(nodeId: "dash-1");
        await using var second = await LbProcess.StartAsync(nodeId: "dash-2");
        await using var third = await LbProcess.StartAsync(nodeId: "dash-3");
        var address = RaftAddress();
        await PostOkAsync(first, "/api/cluster/bootstrap", $$"""{"node_id":"dash-1","raft_advertise_addr":"{{address}}","raft_bind_addr":"{{address}}"}""");
        foreach (var (node, id) in new[] { (second, "dash-2"), (third, "dash-3") })
        {
            var own = RaftAddress();
            await PostOkAsync(node, "/api/node/join-cluster",
                $$"""{"node_id":"{{id}}","raft_advertise_addr":"{{own}}","raft_bind_addr":"{{own}}","peers":["{{first.AdminUri}}"]}""");
        }
        var version = await first.PutConfigAsync(
            """{"routes":[{"id":"shop","enabled":true,"match":{"hosts":["shop.test"]},"upstream_pool":"web"}],"upstream_pools":{"web":{"upstreams":["ADDRESS"]}}}"""
                .Replace("ADDRESS", backend.Address, StringComparison.Ordinal));
        await Wait.UntilAsync(async () => await second.VersionAsync() >= version, 10, "the follower to apply the first configuration");
        var leader = (await StatusAsync(second))["raft"]!["leader_id"]?.GetValue<string>();
        var follower = leader == "dash-2" ? third : second;
        Assert.False((await StatusAsync(follower))["raft"]!["is_leader"]!.GetValue<bool>());

        await using var browser = await BrowserSession.OpenAsync(follower.AdminUri);
        var page = browser.Page;
        await Expect(page.Locator("tr[data-route='shop']")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit route shop" }).ClickAsync();
        var dialog = page.Locator("#dlg-route");
        await dialog.GetByLabel("Hosts").FillAsync("edited.test");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        var review = page.Locator("#dlg-review");
        await Expect(review.Locator("#review-diff")).ToContainTextAsync("edited.test");
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync($"version {version + 1}");
        await Expect(page.Locator("tr[data-route='shop']")).ToContainTextAsync("edited.test");

        // The leader has it (the follower forwarded the write), and every node routes the new host.
        var onLeader = (leader == "dash-1" ? first : leader == "dash-2" ? second : third);
        // Applying is asynchronous on every node but the one that answered (a leader change under load is possible too).
        await Wait.UntilAsync(async () => (await onLeader.Admin.GetStringAsync("/api/config", TestContext.Current.CancellationToken)).Contains("edited.test", StringComparison.Ordinal),
            10, "the leader to apply the edit");
        foreach (var node in new[] { first, second, third })
        {
            await Wait.UntilAsync(async () => await node.WhoAnswersAsync("edited.test") == "cluster-backend", 10, "every node to route edited.test");
        }
        var history = JsonNode.Parse(await onLeader.Admin.GetStringAsync("/api/config/history", TestContext.Current.CancellationToken))!;
        Assert.StartsWith("dashboard from 127.0.0.1", history["entries"]![0]!["origin"]!.GetValue<string>(), StringComparison.Ordinal);
        browser.AssertNoErrors();
    }
}
