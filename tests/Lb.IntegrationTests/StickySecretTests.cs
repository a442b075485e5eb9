using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>A standalone node keeps its sticky-cookie secret in its data directory.</summary>
public sealed class StickySecretTests
{
    [Fact]
    public async Task A_sticky_cookie_stays_valid_after_a_restart_of_a_standalone_node()
    {
        using var dataDir = new TempDirectory();
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        await using var c = await TestBackend.StartAsync("c");
        string cookie;
        string pinned;
        await using (var lb = await LbServer.StartAsync(dataDir: dataDir.Path))
        {
            await lb.PutConfigAsync(Configs.SingleRoute("sticky.test", "sticky_cookie", a, b, c));
            using var first = await GetAsync(lb, null);
            cookie = Assert.Single(first.Headers.GetValues("Set-Cookie")).Split(';')[0];
            pinned = first.Headers.GetValues("X-Backend").Single();
        }

        await using var restarted = await LbServer.StartAsync(dataDir: dataDir.Path);
        using var again = await GetAsync(restarted, cookie);

        Assert.Equal(pinned, again.Headers.GetValues("X-Backend").Single());
        Assert.False(again.Headers.Contains("Set-Cookie"), "the restarted node did not recognise its own cookie");
        Assert.True(File.Exists(Path.Combine(dataDir.Path, Lb.Core.Node.StickySecretFile.FileName)));
    }

    private static async Task<HttpResponseMessage> GetAsync(LbServer node, string? cookie)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = "sticky.test";
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }
        return await node.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
