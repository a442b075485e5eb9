using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lb.Core.Admin;
using Lb.Core.Validation;
using Lb.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lb.AspNetCore.Tests;

/// <summary><c>/api/config/history</c>, <c>/api/config/history/{version}</c> and <c>/api/config/rollback</c> on a real Kestrel host.</summary>
public sealed class ConfigHistoryApiTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Config(string pool, params string[] routeIds) =>
        "{\"routes\":[" + string.Join(",", routeIds.Select(id => $$"""{"id":"{{id}}","enabled":true,"match":{"hosts":["{{id}}.test"]},"upstream_pool":"{{pool}}"}"""))
        + "],\"upstream_pools\":{\"" + pool + "\":{\"upstreams\":[\"127.0.0.1:9\"]}}}";

    private sealed class Host : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Host(WebApplication app, Uri uri)
        {
            _app = app;
            Client = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(10) };
        }

        public HttpClient Client { get; }

        public static async Task<Host> StartAsync(string dataDir, int historyLimit = 50, DesiredStateLimits? limits = null, string adminToken = "")
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            if (limits is not null)
            {
                builder.Services.AddSingleton(limits);
            }
            builder.Services.AddLoadBalancer(configure: o =>
            {
                o.RaftDataDir = dataDir;
                o.ConfigHistoryLimit = historyLimit;
            }).AddAspNetCore();
            builder.Services.Configure<AdminOptions>(o => o.AdminToken = adminToken);
            var app = builder.Build();
            app.MapLoadBalancerAdmin();
            app.MapLoadBalancerDashboard();
            await app.StartAsync();
            return new Host(app, new Uri(app.Urls.First()));
        }

        public async Task<(HttpStatusCode Status, JsonNode? Body, string Text)> SendAsync(HttpMethod method, string path, string? json = null, string? ifMatch = null, string? token = null)
        {
            using var request = new HttpRequestMessage(method, path);
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }
            if (ifMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }
            if (token is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }
            using var response = await Client.SendAsync(request, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            var isJson = response.Content.Headers.ContentType?.MediaType == "application/json";
            return (response.StatusCode, isJson ? JsonNode.Parse(text) : null, text);
        }

        public async Task<long> PutAsync(string json)
        {
            var (status, body, text) = await SendAsync(HttpMethod.Put, "/api/config", json);
            Assert.True(status == HttpStatusCode.OK, text);
            return body!["version"]!.GetValue<long>();
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task History_is_bounded_newest_first_and_marks_the_current_version()
    {
        await using var host = await Host.StartAsync(_dir.Path, historyLimit: 3);
        for (var i = 1; i <= 6; i++)
        {
            await host.PutAsync(Config("p", $"r{i}"));
        }
        var (status, body, _) = await host.SendAsync(HttpMethod.Get, "/api/config/history");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, body!["limit"]!.GetValue<int>());
        Assert.Equal(6, body["current_version"]!.GetValue<long>());
        var entries = body["entries"]!.AsArray();
        Assert.Equal([6L, 5L, 4L], entries.Select(e => e!["version"]!.GetValue<long>()));
        Assert.Equal([true, false, false], entries.Select(e => e!["current"]!.GetValue<bool>()));
        Assert.Equal("api from 127.0.0.1", entries[0]!["origin"]!.GetValue<string>());
        Assert.Equal(1, entries[0]!["route_count"]!.GetValue<int>());

        var (oldStatus, oldBody, _) = await host.SendAsync(HttpMethod.Get, "/api/config/history/5");
        Assert.Equal(HttpStatusCode.OK, oldStatus);
        Assert.Equal("r5", oldBody!["config"]!["routes"]![0]!["id"]!.GetValue<string>());
        Assert.False(oldBody["current"]!.GetValue<bool>());

        var (goneStatus, goneBody, _) = await host.SendAsync(HttpMethod.Get, "/api/config/history/3");
        Assert.Equal(HttpStatusCode.NotFound, goneStatus);
        Assert.Equal("version_not_found", goneBody!["code"]!.GetValue<string>());
        Assert.Contains("keeps versions 4 to 6", goneBody["errors"]![0]!["hint"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_applies_the_old_configuration_as_a_new_version()
    {
        await using var host = await Host.StartAsync(_dir.Path);
        var v1 = await host.PutAsync(Config("first", "a", "b"));
        await host.PutAsync(Config("second", "c"));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/config/rollback") { Content = new StringContent($"{{\"version\":{v1}}}", Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Lb-Origin", "dashboard");
        using var response = await host.Client.SendAsync(request, Ct);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, body["version"]!.GetValue<long>());
        Assert.Equal("\"3\"", response.Headers.ETag!.Tag);

        var (_, current, _) = await host.SendAsync(HttpMethod.Get, "/api/config");
        Assert.Equal(["a", "b"], current!["routes"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()));
        Assert.NotNull(current["upstream_pools"]!["first"]);

        var (_, history, _) = await host.SendAsync(HttpMethod.Get, "/api/config/history");
        var entries = history!["entries"]!.AsArray();
        Assert.Equal([3L, 2L, 1L], entries.Select(e => e!["version"]!.GetValue<long>()));
        Assert.Equal("rollback to version 1 (dashboard) from 127.0.0.1", entries[0]!["origin"]!.GetValue<string>());
        Assert.Equal(entries[2]!["content_hash"]!.GetValue<string>(), entries[0]!["content_hash"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rollback_of_an_unknown_version_is_404_and_changes_nothing()
    {
        await using var host = await Host.StartAsync(_dir.Path);
        await host.PutAsync(Config("p", "a"));
        foreach (var version in new[] { 0, 2, 999 })
        {
            var (status, body, _) = await host.SendAsync(HttpMethod.Post, "/api/config/rollback", $"{{\"version\":{version}}}");
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Equal("version_not_found", body!["code"]!.GetValue<string>());
            Assert.Equal("version", body["errors"]![0]!["field"]!.GetValue<string>());
        }
        var (_, history, _) = await host.SendAsync(HttpMethod.Get, "/api/config/history");
        Assert.Single(history!["entries"]!.AsArray());
    }

    [Fact]
    public async Task Rollback_validates_like_any_write()
    {
        long v1;
        await using (var permissive = await Host.StartAsync(_dir.Path))
        {
            v1 = await permissive.PutAsync(Config("p", "a", "b", "c"));
            await permissive.PutAsync(Config("p", "a"));
        }

        // The node restarts with a tighter limit: version 1 (three routes) is no longer acceptable.
        await using var strict = await Host.StartAsync(_dir.Path, limits: DesiredStateLimits.Default with { MaxRoutes = 2 });
        var (status, body, text) = await strict.SendAsync(HttpMethod.Post, "/api/config/rollback", $"{{\"version\":{v1}}}");
        Assert.True(status == HttpStatusCode.UnprocessableEntity, text);
        Assert.Equal("validation_failed", body!["code"]!.GetValue<string>());
        Assert.Equal("routes", body["errors"]![0]!["field"]!.GetValue<string>());
        var (_, current, _) = await strict.SendAsync(HttpMethod.Get, "/api/config");
        Assert.Equal(2, current!["version"]!.GetValue<long>());
    }

    [Fact]
    public async Task Rollback_honours_If_Match_and_rejects_malformed_bodies()
    {
        await using var host = await Host.StartAsync(_dir.Path);
        await host.PutAsync(Config("p", "a"));
        await host.PutAsync(Config("p", "b"));

        var (stale, staleBody, _) = await host.SendAsync(HttpMethod.Post, "/api/config/rollback", "{\"version\":1}", ifMatch: "\"1\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale);
        Assert.Equal("version_conflict", staleBody!["code"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.BadRequest, (await host.SendAsync(HttpMethod.Post, "/api/config/rollback", "{}")).Status);
        var (unknown, unknownBody, _) = await host.SendAsync(HttpMethod.Post, "/api/config/rollback", "{\"version\":1,\"force\":true}");
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Equal("force", unknownBody!["errors"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, (await host.SendAsync(HttpMethod.Post, "/api/config/rollback", "{\"version\":\"1\"}")).Status);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await host.SendAsync(HttpMethod.Get, "/api/config/rollback")).Status);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await host.SendAsync(HttpMethod.Delete, "/api/config/history")).Status);

        var (ok, okBody, _) = await host.SendAsync(HttpMethod.Post, "/api/config/rollback", "{\"version\":1}", ifMatch: "\"2\"");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(3, okBody!["version"]!.GetValue<long>());
    }

    [Fact]
    public async Task Rollback_needs_the_admin_token_like_any_write()
    {
        const string token = "history-test-token-0123456789";
        await using var host = await Host.StartAsync(_dir.Path, adminToken: token);
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(HttpMethod.Put, "/api/config", Config("p", "a"), token: token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(HttpMethod.Put, "/api/config", Config("p", "b"), token: token)).Status);

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.SendAsync(HttpMethod.Post, "/api/config/rollback", "{\"version\":1}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(HttpMethod.Get, "/api/config/history")).Status); // reads stay open
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(HttpMethod.Post, "/api/config/rollback", "{\"version\":1}", token: token)).Status);
    }

    [Fact]
    public async Task The_dashboard_is_served_from_the_assembly_on_non_api_paths()
    {
        await using var host = await Host.StartAsync(_dir.Path);
        using var page = await host.Client.GetAsync("/", Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("<script src=\"/assets/app.js\"", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var deepLink = await host.Client.GetAsync("/routes/anything", Ct);
        Assert.Equal("text/html", deepLink.Content.Headers.ContentType!.MediaType);

        using var script = await host.Client.GetAsync("/assets/app.js", Ct);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/assets/app.js");
        revalidate.Headers.TryAddWithoutValidation("If-None-Match", script.Headers.ETag!.Tag);
        using var notModified = await host.Client.SendAsync(revalidate, Ct);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await host.SendAsync(HttpMethod.Get, "/assets/missing.js")).Status);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await host.SendAsync(HttpMethod.Post, "/")).Status);
        var (apiStatus, _, apiText) = await host.SendAsync(HttpMethod.Get, "/api/nope");
        Assert.Equal(HttpStatusCode.NotFound, apiStatus);
        Assert.Equal("404 page not found\n", apiText);
    }
}
