using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lb.DashboardTests;

/// <summary>TCP listeners in the dashboard: shown like routes, edited through the same form → validate → review → save path.</summary>
public sealed class TcpListenerDashboardTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_tcp_listener_added_edited_and_deleted_in_the_form_relays_connections_and_shows_them_live()
    {
        // A real TCP echo target on loopback.
        using var target = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        target.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        target.Listen();
        _ = EchoAsync(target);
        await using var lb = await LbProcess.StartAsync();
        var route = """{"id":"shop","enabled":true,"match":{"hosts":["shop.test"]},"upstream_pool":"db"}""";
        await lb.PutConfigAsync("{\"routes\":[" + route + "],\"upstream_pools\":{\"db\":{\"upstreams\":[\"" + target.LocalEndPoint + "\"]}}}");
        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var page = browser.Page;

        // Add, with a bad value first: the node's error appears at the field and nothing is saved.
        await page.GetByRole(AriaRole.Button, new() { Name = "Add TCP listener" }).ClickAsync();
        var dialog = page.Locator("#dlg-tcp");
        await dialog.GetByLabel("Id", new() { Exact = true }).FillAsync("pg");
        await dialog.GetByLabel("Listen address").FillAsync("127.0.0.1:0");
        await dialog.GetByLabel("Upstream pool").SelectOptionAsync("db");
        await dialog.GetByLabel("Algorithm").SelectOptionAsync("least_connection");
        await dialog.GetByLabel("Max connections").FillAsync("0");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        await Expect(dialog.Locator("[data-for='max_connections']")).ToContainTextAsync("max_connections");
        await Expect(dialog.GetByLabel("Max connections")).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Equal(1, await lb.VersionAsync());

        await dialog.GetByLabel("Max connections").FillAsync("100");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        var review = page.Locator("#dlg-review");
        await Expect(review.Locator("#review-diff")).ToContainTextAsync("\"least_connection\"");
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync("version 2");

        // Shown like a route: listen address, pool, algorithm, state and the bound port; then live connections.
        var row = page.Locator("tr[data-tcp-listener='pg']");
        await Expect(row).ToContainTextAsync("least_connection");
        await Expect(row.Locator(".state")).ToHaveTextAsync("listening", new() { Timeout = 10_000 });
        var bound = IPEndPoint.Parse((await row.Locator("td.mono").Nth(1).TextContentAsync())!);
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(bound, Ct);
            await client.SendAsync(Encoding.ASCII.GetBytes("ping"), SocketFlags.None, Ct);
            var echoed = new byte[4];
            Assert.Equal(4, await client.ReceiveAsync(echoed, SocketFlags.None, Ct));
            Assert.Equal("ping", Encoding.ASCII.GetString(echoed));
            await Expect(row.Locator("td.num").First).ToHaveTextAsync("1 / 100", new() { Timeout = 10_000 });
        }

        // Edit: the change is saved, and an edit of a route keeps the listener (every edit carries tcp_listeners).
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit TCP listener pg" }).ClickAsync();
        await dialog.GetByLabel("Idle timeout").FillAsync("30s");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync("version 3");
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit route shop" }).ClickAsync();
        await page.Locator("#dlg-route").GetByLabel("Hosts").FillAsync("shop.example");
        await page.Locator("#dlg-route").GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync("version 4");
        var stored = JsonNode.Parse(await lb.Admin.GetStringAsync("/api/config", Ct))!;
        Assert.Equal("30s", stored["tcp_listeners"]![0]!["idle_timeout"]!.GetValue<string>());

        // The pool counts the listener among its users and takes a tcp (connect) check, which has no path or status.
        var poolHead = page.Locator("[data-pool='db'] .pool-head");
        await Expect(poolHead).ToContainTextAsync("used by 1 route and 1 TCP listener");
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit pool db" }).ClickAsync();
        var poolDialog = page.Locator("#dlg-pool");
        await poolDialog.GetByLabel("Active health check").CheckAsync();
        await Expect(poolDialog.GetByLabel("Path", new() { Exact = true })).ToBeVisibleAsync();
        await poolDialog.GetByLabel("Type", new() { Exact = true }).SelectOptionAsync("tcp");
        await Expect(poolDialog.GetByLabel("Path", new() { Exact = true })).Not.ToBeVisibleAsync();
        await Expect(poolDialog.GetByLabel("Expect status")).Not.ToBeVisibleAsync();
        await poolDialog.GetByLabel("Interval").FillAsync("2s");
        await poolDialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        await Expect(review.Locator("#review-diff")).ToContainTextAsync("\"tcp\"");
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync("version 5");
        var check = JsonNode.Parse(await lb.Admin.GetStringAsync("/api/config", Ct))!["upstream_pools"]!["db"]!["health_check"]!;
        Assert.Equal(("tcp", "2s"), (check["type"]!.GetValue<string>(), check["interval"]!.GetValue<string>()));
        Assert.True(check["path"] is null || check["path"]!.GetValue<string>() == "");
        Assert.True(check["expect_status"] is null || check["expect_status"]!.GetValue<int>() == 0);
        await Expect(poolHead).ToContainTextAsync("health tcp connect every 2s");
        // Opened again, the form shows the tcp check with the HTTP-only fields hidden.
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit pool db" }).ClickAsync();
        await Expect(poolDialog.GetByLabel("Type", new() { Exact = true })).ToHaveValueAsync("tcp");
        await Expect(poolDialog.GetByLabel("Path", new() { Exact = true })).Not.ToBeVisibleAsync();
        await poolDialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        // Delete: after the review the listener is gone from the configuration and the table.
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete TCP listener pg" }).ClickAsync();
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync("version 6");
        await Expect(row).Not.ToBeVisibleAsync();
        stored = JsonNode.Parse(await lb.Admin.GetStringAsync("/api/config", Ct))!;
        Assert.True(stored["tcp_listeners"] is null || stored["tcp_listeners"]!.AsArray().Count == 0);
        browser.AssertNoErrors(422);
    }

    private static async Task EchoAsync(Socket listener)
    {
        try
        {
            while (true)
            {
                var socket = await listener.AcceptAsync();
                _ = Task.Run(async () =>
                {
                    using (socket)
                    {
                        var buffer = new byte[4096];
                        int read;
                        try
                        {
                            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                            {
                                await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                            }
                        }
                        catch (SocketException)
                        {
                        }
                    }
                });
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The test ended and closed the listener.
        }
    }
}
