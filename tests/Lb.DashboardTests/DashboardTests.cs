using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lb.TestSupport;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lb.DashboardTests;

/// <summary>The dashboard in a real browser against a real server process with real backends.</summary>
public sealed partial class DashboardTests
{
    private static string Pool(string id, string address, string extras = "") =>
        """{"routes":[{"id":"shop","enabled":true,"match":{"hosts":["shop.test"]},"upstream_pool":"ID"}],"upstream_pools":{"ID":{"upstreams":["ADDRESS"]"""
            .Replace("ID", id, StringComparison.Ordinal).Replace("ADDRESS", address, StringComparison.Ordinal) + extras + "}}}";

    [Fact]
    public async Task A_pool_and_a_route_created_in_the_forms_carry_traffic_to_the_new_backend()
    {
        await using var backend = await TestBackend.StartAsync("new-backend");
        await using var lb = await LbProcess.StartAsync();
        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var page = browser.Page;
        Assert.Equal("status 404", await lb.WhoAnswersAsync("shop.test"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Add pool" }).ClickAsync();
        var poolDialog = page.Locator("#dlg-pool");
        await poolDialog.GetByLabel("Id").FillAsync("web");
        await poolDialog.GetByLabel("Upstreams").FillAsync(backend.Address);
        await poolDialog.GetByLabel("Interval").FillAsync("1s");
        await poolDialog.GetByLabel("Timeout", new() { Exact = true }).FillAsync("500ms");
        await poolDialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        var review = page.Locator("#dlg-review");
        await Expect(review.Locator("#review-diff")).ToContainTextAsync(backend.Address);
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync("Saved: the configuration is now version 1");
        await Expect(poolDialog).Not.ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Add route" }).ClickAsync();
        var routeDialog = page.Locator("#dlg-route");
        await routeDialog.GetByLabel("Id").FillAsync("shop");
        await routeDialog.GetByLabel("Hosts").FillAsync("shop.test");
        await routeDialog.GetByLabel("Path match").SelectOptionAsync("prefix");
        await routeDialog.GetByLabel("Path value").FillAsync("/api/");
        await routeDialog.GetByLabel("Upstream pool").SelectOptionAsync("web");
        await routeDialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        await Expect(review.Locator("#review-diff")).ToContainTextAsync("shop.test");
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync("version 2");

        Assert.Equal("new-backend", await lb.WhoAnswersAsync("shop.test"));
        await Expect(page.Locator("tr[data-route='shop']")).ToContainTextAsync("prefix /api/");
        await Expect(page.Locator($"[data-pool='web'] tr[data-target='{backend.Address}'] .state")).ToHaveTextAsync("healthy", new() { Timeout = 10_000 });
        // Live traffic shows up in the route's p99 column (computed in the page from /api/stats/routes deltas).
        var p99 = page.Locator("tr[data-route='shop'] td.num").Nth(2);
        await Wait.UntilAsync(async () =>
        {
            await lb.WhoAnswersAsync("shop.test");
            return (await p99.TextContentAsync())!.EndsWith(" ms", StringComparison.Ordinal);
        }, 10, "a p99 for route shop");
        var history = JsonNode.Parse(await lb.Admin.GetStringAsync("/api/config/history", TestContext.Current.CancellationToken))!;
        Assert.StartsWith("dashboard from 127.0.0.1", history["entries"]![0]!["origin"]!.GetValue<string>(), StringComparison.Ordinal);
        browser.AssertNoErrors();
    }

    [Fact]
    public async Task Limits_target_state_slow_start_and_a_hash_key_edited_in_the_forms_are_saved_and_shown_again()
    {
        await using var lb = await LbProcess.StartAsync();
        await lb.PutConfigAsync(Pool("web", "127.0.0.1:9"));
        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var page = browser.Page;
        var review = page.Locator("#dlg-review");

        await page.GetByRole(AriaRole.Button, new() { Name = "Edit pool web" }).ClickAsync();
        var poolDialog = page.Locator("#dlg-pool");
        await poolDialog.GetByLabel("Upstreams").FillAsync("127.0.0.1:9 weight=2 state=drain max_connections=5\n127.0.0.1:10");
        await poolDialog.GetByLabel("Max connections per target").FillAsync("20");
        await poolDialog.GetByLabel("Queue timeout").FillAsync("2s");
        await poolDialog.GetByLabel("Slow start").FillAsync("30s");
        await poolDialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        await Expect(review.Locator("#review-diff")).ToContainTextAsync("\"max_connections\": 20");
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync("version 2");

        await page.GetByRole(AriaRole.Button, new() { Name = "Edit route shop" }).ClickAsync();
        var routeDialog = page.Locator("#dlg-route");
        await routeDialog.GetByLabel("Algorithm").SelectOptionAsync("hdr");
        await routeDialog.GetByLabel("Hash key").FillAsync("X-User");
        await routeDialog.GetByLabel("Server timeout").FillAsync("5s");
        await routeDialog.GetByLabel("Max body (bytes)").FillAsync("1048576");
        await routeDialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync("version 3");

        var config = JsonNode.Parse(await lb.Admin.GetStringAsync("/api/config", TestContext.Current.CancellationToken))!;
        var pool = config["upstream_pools"]!["web"]!;
        Assert.Equal(("drain", 5, 2, "127.0.0.1:10"), (pool["upstreams"]![0]!["state"]!.GetValue<string>(), pool["upstreams"]![0]!["max_connections"]!.GetValue<int>(),
            pool["upstreams"]![0]!["weight"]!.GetValue<int>(), pool["upstreams"]![1]!.GetValue<string>()));
        Assert.Equal((20, "2s", "30s"), (pool["max_connections"]!.GetValue<int>(), pool["queue_timeout"]!.GetValue<string>(), pool["slow_start"]!.GetValue<string>()));
        var route = config["routes"]![0]!;
        Assert.Equal(("hdr", "X-User", "5s", 1048576L), (route["algorithm"]!.GetValue<string>(), route["hash_key"]!.GetValue<string>(),
            route["server_timeout"]!.GetValue<string>(), route["max_request_body_size"]!.GetValue<long>()));

        // Opened again, the forms show what was saved.
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit pool web" }).ClickAsync();
        await Expect(poolDialog.GetByLabel("Upstreams")).ToHaveValueAsync("127.0.0.1:9 weight=2 state=drain max_connections=5\n127.0.0.1:10");
        await Expect(poolDialog.GetByLabel("Max connections per target")).ToHaveValueAsync("20");
        browser.AssertNoErrors();
    }

    [Fact]
    public async Task A_bad_regex_is_shown_next_to_the_path_field_and_nothing_is_saved()
    {
        await using var lb = await LbProcess.StartAsync();
        var version = await lb.PutConfigAsync(Pool("web", "127.0.0.1:9"));
        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var page = browser.Page;

        await page.GetByRole(AriaRole.Button, new() { Name = "Add route" }).ClickAsync();
        var dialog = page.Locator("#dlg-route");
        await dialog.GetByLabel("Id").FillAsync("broken");
        await dialog.GetByLabel("Hosts").FillAsync("broken.test");
        await dialog.GetByLabel("Path match").SelectOptionAsync("regex");
        await dialog.GetByLabel("Path value").FillAsync("^/(unclosed");
        await dialog.GetByLabel("Upstream pool").SelectOptionAsync("web");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();

        var error = dialog.Locator("[data-for='match.path.value']");
        await Expect(error).ToContainTextAsync(RegexError());
        await Expect(dialog.GetByLabel("Path value")).ToHaveAttributeAsync("aria-invalid", "true");
        // The message is tied to the field for screen readers too.
        var describedBy = await dialog.GetByLabel("Path value").GetAttributeAsync("aria-describedby");
        Assert.Equal(describedBy, await error.GetAttributeAsync("id"));
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(page.Locator("#dlg-review")).Not.ToBeVisibleAsync();
        Assert.Equal(version, await lb.VersionAsync());
        browser.AssertNoErrors(422);
    }

    [GeneratedRegex("regex", RegexOptions.IgnoreCase)]
    private static partial Regex RegexError();

    [Fact]
    public async Task A_backend_that_starts_failing_health_shows_as_down_within_seconds()
    {
        await using var backend = await TestBackend.StartAsync("flaky");
        await using var lb = await LbProcess.StartAsync();
        await lb.PutConfigAsync(Pool("web", backend.Address, ""","health_check":{"path":"/health","interval":"500ms","timeout":"250ms","expect_status":200,"fall":1}"""));
        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var state = browser.Page.Locator($"[data-pool='web'] tr[data-target='{backend.Address}'] .state");
        await Expect(state).ToHaveTextAsync("healthy", new() { Timeout = 10_000 });

        backend.HealthStatus = 503;
        await Expect(state).ToHaveTextAsync("down", new() { Timeout = 5_000 });
        await Expect(browser.Page.Locator($"[data-pool='web'] tr[data-target='{backend.Address}']")).ToContainTextAsync("503");
        await Expect(browser.Page.Locator("[data-card='Targets healthy'] dd")).ToHaveTextAsync("0 / 1");
        browser.AssertNoErrors();
    }

    [Fact]
    public async Task Saving_an_edit_based_on_a_stale_version_shows_the_conflict_and_overwrites_nothing()
    {
        await using var lb = await LbProcess.StartAsync();
        await lb.PutConfigAsync(Pool("web", "127.0.0.1:9"));
        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var page = browser.Page;
        await Expect(page.Locator("tr[data-route='shop']")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Edit route shop" }).ClickAsync();
        var dialog = page.Locator("#dlg-route");
        await dialog.GetByLabel("Hosts").FillAsync("mine.test");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        var review = page.Locator("#dlg-review");
        await Expect(review.Locator("#review-diff")).ToContainTextAsync("mine.test");

        // Someone else writes while the review is open.
        var theirs = await lb.PutConfigAsync(Pool("web", "127.0.0.1:9").Replace("shop.test", "theirs.test", StringComparison.Ordinal));
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        var conflict = review.Locator("#review-conflict");
        await Expect(conflict).ToBeVisibleAsync();
        await Expect(conflict).ToContainTextAsync("changed since you loaded it");
        await Expect(conflict).ToContainTextAsync("reload or review the diff");
        await Expect(review.Locator("#review-diff")).ToContainTextAsync("theirs.test");
        Assert.Equal(theirs, await lb.VersionAsync());
        Assert.Contains("theirs.test", await lb.Admin.GetStringAsync("/api/config", TestContext.Current.CancellationToken), StringComparison.Ordinal);

        await review.GetByRole(AriaRole.Button, new() { Name = "Reload (discard my edit)" }).ClickAsync();
        await Expect(review).Not.ToBeVisibleAsync();
        await Expect(dialog).Not.ToBeVisibleAsync();
        await Expect(page.Locator("tr[data-route='shop']")).ToContainTextAsync("theirs.test");
        browser.AssertNoErrors(412);
    }

    [Fact]
    public async Task Rollback_from_the_history_restores_the_previous_routing()
    {
        await using var first = await TestBackend.StartAsync("first");
        await using var second = await TestBackend.StartAsync("second");
        await using var lb = await LbProcess.StartAsync();
        var v1 = await lb.PutConfigAsync(Pool("web", first.Address));
        await lb.PutConfigAsync(Pool("web", second.Address));
        Assert.Equal("second", await lb.WhoAnswersAsync("shop.test"));

        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var page = browser.Page;
        var row = page.Locator($"#history-table tr[data-version='{v1}']");
        await row.GetByRole(AriaRole.Button, new() { Name = $"Diff version {v1} against current" }).ClickAsync();
        var confirm = page.Locator("#dlg-confirm");
        await Expect(confirm.Locator("#confirm-diff")).ToContainTextAsync(first.Address);
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
        await Expect(confirm).Not.ToBeVisibleAsync();

        await row.GetByRole(AriaRole.Button, new() { Name = $"Roll back to version {v1}" }).ClickAsync();
        await Expect(confirm).ToContainTextAsync($"Roll back to version {v1}?");
        await confirm.GetByRole(AriaRole.Button, new() { Name = $"Roll back to version {v1}" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync($"has the configuration of version {v1}");

        Assert.Equal("first", await lb.WhoAnswersAsync("shop.test"));
        Assert.Equal(3, await lb.VersionAsync());
        await Expect(page.Locator("#history-table tr[data-version='3']")).ToContainTextAsync($"rollback to version {v1} (dashboard)");
        browser.AssertNoErrors();
    }

    [Fact]
    public async Task With_an_admin_token_required_the_page_asks_once_and_keeps_it_for_the_session()
    {
        const string token = "dashboard-test-token-0123456789";
        await using var lb = await LbProcess.StartAsync($$""","adminToken":"{{token}}","adminReadRequiresToken":true""");
        await lb.PutConfigAsync(Pool("web", "127.0.0.1:9"), token);
        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var page = browser.Page;

        var prompt = page.Locator("#dlg-token");
        await Expect(prompt).ToBeVisibleAsync();
        await prompt.GetByLabel("Token").FillAsync(token);
        await prompt.GetByLabel("Token").PressAsync("Enter");
        await Expect(page.Locator("tr[data-route='shop']")).ToBeVisibleAsync();

        await page.ReloadAsync();
        await Expect(page.Locator("tr[data-route='shop']")).ToBeVisibleAsync();
        await Expect(prompt).Not.ToBeVisibleAsync();
        browser.AssertNoErrors(401);
    }

    [Fact]
    public async Task A_route_can_be_added_with_the_keyboard_alone()
    {
        await using var backend = await TestBackend.StartAsync("keys");
        await using var lb = await LbProcess.StartAsync();
        await lb.PutConfigAsync("""{"routes":[],"upstream_pools":{"web":{"upstreams":["ADDRESS"]}}}""".Replace("ADDRESS", backend.Address, StringComparison.Ordinal));
        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var page = browser.Page;
        await Expect(page.Locator("[data-pool='web']")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Add route" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#route-id")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("kb");
        await page.Keyboard.PressAsync("Tab"); // Enabled
        await page.Keyboard.PressAsync("Tab"); // Hosts
        await page.Keyboard.TypeAsync("kb.test");
        // The only pool is preselected; Enter in a text field would add a line, so submit from the id field.
        await page.Locator("#route-id").PressAsync("Enter");
        await Expect(page.Locator("#btn-save")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#banner")).ToContainTextAsync("Saved");
        Assert.Equal("keys", await lb.WhoAnswersAsync("kb.test"));
        browser.AssertNoErrors();
    }

    [Fact]
    public async Task The_json_editor_lists_api_errors_by_field_and_saves_a_valid_document()
    {
        await using var first = await TestBackend.StartAsync("json-first");
        await using var second = await TestBackend.StartAsync("json-second");
        await using var lb = await LbProcess.StartAsync();
        await lb.PutConfigAsync(Pool("web", first.Address));
        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var page = browser.Page;
        var editor = page.GetByLabel("Routes and pools as the node stores them");
        await Expect(editor).ToHaveValueAsync(new Regex(Regex.Escape(first.Address)));
        var original = await editor.InputValueAsync();

        await editor.FillAsync(original.Replace("\"upstream_pool\": \"web\"", "\"upstream_pool\": \"nowhere\"", StringComparison.Ordinal));
        await page.GetByRole(AriaRole.Button, new() { Name = "Review and save…" }).ClickAsync();
        await Expect(page.Locator("#json-errors")).ToContainTextAsync("routes[0].upstream_pool: referenced upstream_pool does not exist");
        await Expect(page.Locator("#dlg-review")).Not.ToBeVisibleAsync();

        await editor.FillAsync(original.Replace(first.Address, second.Address, StringComparison.Ordinal));
        await page.GetByRole(AriaRole.Button, new() { Name = "Review and save…" }).ClickAsync();
        var review = page.Locator("#dlg-review");
        await Expect(review.Locator("#review-diff .del")).ToContainTextAsync(first.Address);
        await Expect(review.Locator("#review-diff .add")).ToContainTextAsync(second.Address);
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("#banner")).ToContainTextAsync("version 2");
        await Expect(page.Locator("#json-errors")).ToBeEmptyAsync();
        Assert.Equal("json-second", await lb.WhoAnswersAsync("shop.test"));
        browser.AssertNoErrors(422);
    }

    [Fact]
    public async Task Deleting_a_pool_that_a_route_uses_is_refused_with_the_reason()
    {
        await using var lb = await LbProcess.StartAsync();
        var version = await lb.PutConfigAsync(Pool("web", "127.0.0.1:9"));
        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri);
        var page = browser.Page;

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete pool web" }).ClickAsync();
        var review = page.Locator("#dlg-review");
        await Expect(review.Locator("#review-summary")).ToContainTextAsync("Delete pool web");
        await review.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(review.Locator(".form-errors")).ToContainTextAsync("routes[0].upstream_pool: referenced upstream_pool does not exist");
        Assert.Equal(version, await lb.VersionAsync());
        browser.AssertNoErrors(422);
    }
}
