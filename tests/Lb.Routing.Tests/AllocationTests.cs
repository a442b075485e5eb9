using static Lb.Routing.Tests.Routes;

namespace Lb.Routing.Tests;

public sealed class AllocationTests
{
    [Fact]
    public void Match_allocates_nothing()
    {
        var table = Table(
            Exact("login", "/login", "shop.example.com"),
            Prefix("api", "/api/", "shop.example.com"),
            Regex("png", @"\.png$", "shop.example.com"),
            Prefix("wild", "/w/", "*.example.com"),
            Prefix("ipv6", "/", "[fd00::1]"),
            Exact("health", "/health"));
        (string Host, string Path, string? Expected)[] requests =
        [
            ("SHOP.Example.com:8443", "/login", "login"),
            ("shop.example.com.", "/api/orders/1", "api"),
            ("shop.example.com", "/img/logo.png", "png"),
            ("Deep.Sub.EXAMPLE.com:80", "/w/x", "wild"),
            ("[fd00::1]:8080", "/anything", "ipv6"),
            ("unknown.test", "/health", "health"),
            ("unknown.test", "/missing", null),
            ("shop.example.com", "", null),
            ("", "/health", "health"),
        ];
        foreach (var (host, path, expected) in requests)
        {
            Assert.Equal(expected, table.Match(host, path)?.Id);
        }
        for (var i = 0; i < 1_000; i++)
        {
            var (host, path, _) = requests[i % requests.Length];
            table.Match(host, path);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            var (host, path, _) = requests[i % requests.Length];
            table.Match(host, path);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }
}
