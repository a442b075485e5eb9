namespace Lb.Core.Tests;

/// <summary>The example configuration of the seed contract §2.1, as a client would send it.</summary>
internal static class SeedExample
{
    public const string Json = """
        {
          "routes": [
            {
              "id": "shop-api",
              "enabled": true,
              "algorithm": "least_connection",
              "match": { "hosts": ["shop.example.test"], "path": { "type": "prefix", "value": "/api/" } },
              "upstream_pool": "shop-backends"
            },
            {
              "id": "shop-login",
              "enabled": true,
              "algorithm": "sticky_cookie",
              "match": { "hosts": ["shop.example.test", "www.shop.example.test"], "path": { "type": "exact", "value": "/login" } },
              "upstream_pool": "shop-backends"
            },
            {
              "id": "shop-fallback",
              "enabled": true,
              "match": { "hosts": ["shop.example.test"] },
              "upstream_pool": "static"
            }
          ],
          "upstream_pools": {
            "shop-backends": {
              "upstreams": ["10.1.0.21:8080", "10.1.0.22:8080", "[fd00::23]:8080"],
              "health_check": { "path": "/healthz", "interval": "5s", "timeout": "1500ms", "expect_status": 200 }
            },
            "static": { "upstreams": ["10.1.0.30:80"] }
          }
        }
        """;
}
