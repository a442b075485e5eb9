using Lb.TestSupport;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lb.DashboardTests;

/// <summary>
/// Renders the dashboard for an example configuration with live traffic and one failing backend, and saves the
/// picture: to <c>LB_DASHBOARD_PNG</c> when set (docs/dashboard.sh sets it to docs/dashboard.png), else a temp file.
/// </summary>
public sealed class DashboardScreenshot
{
    [Fact]
    public async Task The_example_configuration_renders_without_errors_and_is_captured()
    {
        await using var web1 = await TestBackend.StartAsync("web-1");
        await using var web2 = await TestBackend.StartAsync("web-2");
        await using var api1 = await TestBackend.StartAsync("api-1");
        await using var lb = await LbProcess.StartAsync();
        web2.HealthStatus = 503;
        var health = ""","health_check":{"path":"/health","interval":"1s","timeout":"500ms","expect_status":200,"fall":1}""";
        await lb.PutConfigAsync("""{"routes":[{"id":"shop-web","enabled":true,"match":{"hosts":["shop.example.test"]},"upstream_pool":"web"}],"upstream_pools":{"web":{"upstreams":["WEB1","WEB2"]HEALTH}}}"""
            .Replace("WEB1", web1.Address, StringComparison.Ordinal).Replace("WEB2", web2.Address, StringComparison.Ordinal).Replace("HEALTH", health, StringComparison.Ordinal));
        await lb.PutConfigAsync(("""
            {"routes":[
              {"id":"shop-api","enabled":true,"algorithm":"least_connection","match":{"hosts":["shop.example.test"],"path":{"type":"prefix","value":"/api/"}},"upstream_pool":"api"},
              {"id":"shop-login","enabled":true,"algorithm":"sticky_cookie","match":{"hosts":["shop.example.test","www.shop.example.test"],"path":{"type":"exact","value":"/login"}},"upstream_pool":"web"},
              {"id":"shop-web","enabled":true,"match":{"hosts":["shop.example.test"]},"upstream_pool":"web"},
              {"id":"legacy","enabled":false,"match":{"hosts":["old.example.test"],"path":{"type":"regex","value":"^/v1/.*"}},"upstream_pool":"web"}],
             "upstream_pools":{
              "api":{"upstreams":["API1"]HEALTH},
              "web":{"upstreams":["WEB1","WEB2"]HEALTH}}}
            """).Replace("WEB1", web1.Address, StringComparison.Ordinal).Replace("WEB2", web2.Address, StringComparison.Ordinal)
            .Replace("API1", api1.Address, StringComparison.Ordinal).Replace("HEALTH", health, StringComparison.Ordinal));

        await using var browser = await BrowserSession.OpenAsync(lb.AdminUri, 1400, 1180);
        var page = browser.Page;
        await Expect(page.Locator($"tr[data-target='{web2.Address}'] .state")).ToHaveTextAsync("down", new() { Timeout = 10_000 });

        // Bounded traffic (about 8 s) so the sparklines have something to draw.
        var until = DateTime.UtcNow.AddSeconds(8);
        var i = 0;
        while (DateTime.UtcNow < until)
        {
            await lb.WhoAnswersAsync("shop.example.test", i % 3 == 0 ? "/api/info" : "/index.html");
            if (i % 4 == 0)
            {
                await lb.WhoAnswersAsync("www.shop.example.test", "/login");
            }
            i++;
            await Task.Delay(i % 20 < 10 ? 20 : 60, TestContext.Current.CancellationToken);
        }
        await Expect(page.Locator("tr[data-route='shop-api'] td.num").Nth(2)).ToContainTextAsync("ms");

        var target = Environment.GetEnvironmentVariable("LB_DASHBOARD_PNG") is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(Path.GetTempPath(), $"lb-dashboard-{Guid.NewGuid():N}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = target });
        var png = await File.ReadAllBytesAsync(target, TestContext.Current.CancellationToken);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.True(png.Length > 20_000, $"suspiciously small screenshot: {png.Length} bytes");

        // The review step of an edit, for a look at the diff (LB_DASHBOARD_REVIEW_PNG; not published).
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit route shop-login" }).ClickAsync();
        await page.Locator("#dlg-route").GetByLabel("Hosts").FillAsync("shop.example.test\nlogin.example.test");
        await page.Locator("#dlg-route").GetByRole(AriaRole.Button, new() { Name = "Review changes…" }).ClickAsync();
        await Expect(page.Locator("#review-diff .add")).ToContainTextAsync("login.example.test");
        var review = Environment.GetEnvironmentVariable("LB_DASHBOARD_REVIEW_PNG") is { Length: > 0 } reviewPath
            ? Path.GetFullPath(reviewPath)
            : Path.Combine(Path.GetTempPath(), $"lb-dashboard-review-{Guid.NewGuid():N}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = review });
        if (Environment.GetEnvironmentVariable("LB_DASHBOARD_REVIEW_PNG") is not { Length: > 0 })
        {
            File.Delete(review);
        }
        if (Environment.GetEnvironmentVariable("LB_DASHBOARD_PNG") is not { Length: > 0 })
        {
            File.Delete(target);
        }
        browser.AssertNoErrors();
    }
}
