using System.Net;
using System.Text;
using Lb.Core.Admin;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lb.AspNetCore.Tests;

public sealed class AdminSeamTests : IDisposable
{
    private const string Token = "0123456789abcdef0123";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<(WebApplication App, HttpClient Client)> StartAsync(Action<IServiceCollection>? before = null, string adminToken = "")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        before?.Invoke(builder.Services);
        builder.Services.AddLoadBalancer(configure: o => o.RaftDataDir = _dir.Path).AddAspNetCore();
        builder.Services.Configure<AdminOptions>(o => o.AdminToken = adminToken);
        var app = builder.Build();
        app.MapLoadBalancerAdmin();
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new HttpClient { BaseAddress = new Uri(address) });
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Without_a_cluster_package_bootstrap_and_join_answer_501_with_what_to_add()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;
        using var __ = client;
        var ct = TestContext.Current.CancellationToken;

        foreach (var path in new[] { "/api/cluster/bootstrap", "/api/node/join-cluster", "/api/cluster/join" })
        {
            using var response = await client.PostAsync(path, Json("{}"), ct);
            Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
            Assert.Contains("\"code\":\"raft_not_available\"", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }
        using var wrongMethod = await client.GetAsync("/api/cluster/bootstrap", ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
    }

    [Fact]
    public async Task A_contributed_feature_group_replaces_the_standalone_default_whatever_the_registration_order()
    {
        // Registered before AddLoadBalancer: the default still gives way.
        var (app, client) = await StartAsync(s => s.AddSingleton<IAdminEndpointContributor, EchoLifecycle>(), Token);
        await using var _ = app;
        using var __ = client;
        var ct = TestContext.Current.CancellationToken;

        using var anonymous = await client.PostAsync("/api/cluster/bootstrap", Json("""{"node_id":"n1"}"""), ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        client.DefaultRequestHeaders.Authorization = new("Bearer", Token);
        using var bootstrap = await client.PostAsync("/api/cluster/bootstrap", Json("""{"node_id":"n1"}"""), ct);
        Assert.Equal(HttpStatusCode.OK, bootstrap.StatusCode);
        Assert.Equal("""{"echo":{"node_id":"n1"}}""" + "\n", await bootstrap.Content.ReadAsStringAsync(ct));
        Assert.Equal("\"e1\"", bootstrap.Headers.ETag?.ToString());

        using var refused = await client.PostAsync("/api/cluster/join", Json("{}"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("""{"message":"node_id and raft_address are required","code":"invalid_request","errors":[{"field":"node_id","message":"required"}]}""" + "\n",
            await refused.Content.ReadAsStringAsync(ct));

        // The replaced group's other endpoints are gone with it.
        using var gone = await client.PostAsync("/api/node/join-cluster", Json("{}"), ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var notJson = await client.PostAsync("/api/cluster/bootstrap", new StringContent("x", Encoding.UTF8, "text/plain"), ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notJson.StatusCode);
    }

    [Fact]
    public async Task The_store_alone_decides_a_version_conflict_even_when_the_local_copy_lags()
    {
        var store = new LaggingStore();
        var (app, client) = await StartAsync(s => s.AddSingleton<IDesiredStateStore>(store));
        await using var _ = app;
        using var __ = client;
        var ct = TestContext.Current.CancellationToken;
        const string config = """{"routes":[],"upstream_pools":{}}""";

        // The local copy says version 1, the store's authority is at 5: an If-Match of 5 is accepted...
        using var ifMatch5 = new HttpRequestMessage(HttpMethod.Put, "/api/config") { Content = Json(config) };
        ifMatch5.Headers.IfMatch.Add(new("\"5\""));
        using var accepted = await client.SendAsync(ifMatch5, ct);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);

        // ...and one matching only the stale local copy is refused by the store: 412 for If-Match, 409 for a body version.
        using var ifMatch1 = new HttpRequestMessage(HttpMethod.Put, "/api/config") { Content = Json(config) };
        ifMatch1.Headers.IfMatch.Add(new("\"1\""));
        using var precondition = await client.SendAsync(ifMatch1, ct);
        Assert.Equal(HttpStatusCode.PreconditionFailed, precondition.StatusCode);
        using var bodyVersion = await client.PutAsync("/api/config", Json("""{"routes":[],"upstream_pools":{},"version":1}"""), ct);
        Assert.Equal(HttpStatusCode.Conflict, bodyVersion.StatusCode);
        Assert.Contains("version_conflict", await bodyVersion.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    private sealed class EchoLifecycle : IAdminEndpointContributor
    {
        public string Feature => AdminFeatures.ClusterLifecycle;

        public bool IsDefault => false;

        public IEnumerable<AdminEndpoint> GetEndpoints() =>
        [
            new AdminEndpoint("POST", "/api/cluster/bootstrap", AdminAccess.Write, (request, _) => ValueTask.FromResult(new AdminResult
            {
                StatusCode = 200,
                Json = Encoding.UTF8.GetBytes("{\"echo\":" + Encoding.UTF8.GetString(request.Body.Span) + "}"),
                Headers = new Dictionary<string, string> { ["ETag"] = "\"e1\"" },
            })),
            new AdminEndpoint("POST", "/api/cluster/join", AdminAccess.Write, (_, _) => ValueTask.FromResult(
                AdminResult.Fail(400, "node_id and raft_address are required", "invalid_request", [new AdminFieldError("node_id", "required")]))),
        ];
    }

    /// <summary>A store whose local copy says version 1 while writes are decided against version 5 (a lagging follower).</summary>
    private sealed class LaggingStore : IDesiredStateStore
    {
        private static readonly VersionedDesiredState Local = new(1, DesiredState.Empty, DateTimeOffset.UnixEpoch);

        public VersionedDesiredState Current => Local;

        public ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion = null, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(expectedVersion is null or 5
                ? new StoreWriteResult { Status = StoreWriteStatus.Applied, Current = new VersionedDesiredState(6, state, DateTimeOffset.UnixEpoch) }
                : new StoreWriteResult { Status = StoreWriteStatus.VersionConflict, Current = new VersionedDesiredState(5, DesiredState.Empty, DateTimeOffset.UnixEpoch) });

        public async ValueTask<VersionedDesiredState> WaitForChangeAsync(long knownVersion, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return Local;
        }
    }
}
