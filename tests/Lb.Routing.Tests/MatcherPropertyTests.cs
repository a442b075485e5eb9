using CsCheck;
using Lb.Core.Spec;

namespace Lb.Routing.Tests;

public sealed class MatcherPropertyTests
{
    private static readonly string[] ConfiguredHosts =
        ["a.example.com", "b.example.com", "x.a.example.com", "example.com", "*.example.com", "*.a.example.com", "*.x.a.example.com", "other.test", "[::1]", "10.0.0.1", "Mixed.Example.COM"];

    private static readonly string[] RequestHosts =
        ["a.example.com", "A.EXAMPLE.COM:8080", "b.example.com.", "x.a.example.com", "y.x.a.example.com:443", "example.com", "mixed.example.com",
         "deep.b.example.com", "other.test:80", "[::1]:8080", "[::1]", "::1", "10.0.0.1:1", "10.0.0.1:", "", "unknown.test", ".example.com", "a..example.com"];

    private static readonly string[] Segments = ["a", "b", "api", "x", ""];

    private static readonly Gen<string> GenSegments = Gen.OneOf(Segments).Array[0, 3].Select(s => string.Join('/', s));

    private static readonly Gen<PathMatchSpec?> GenPath = Gen.Frequency(
        (2, GenSegments.Select(s => (PathMatchSpec?)new PathMatchSpec { Type = PathMatchTypes.Exact, Value = "/" + s })),
        (3, GenSegments.Select(s => (PathMatchSpec?)new PathMatchSpec { Type = PathMatchTypes.Prefix, Value = s.Length == 0 ? "/" : "/" + s + "/" })),
        (2, Gen.OneOf("^/a", "b$", "api/x", "^/$", "x", "^/a/b$", "(").Select(r => (PathMatchSpec?)new PathMatchSpec { Type = PathMatchTypes.Regex, Value = r })),
        (1, Gen.Const((PathMatchSpec?)null)));

    private static readonly Gen<RouteSpec[]> GenRoutes =
        Gen.Select(Gen.OneOf("a", "b", "c"), Gen.OneOf(ConfiguredHosts).Array[0, 2], GenPath, Gen.Int[0, 9])
            .Array[0, 25]
            .Select(routes => routes
                .Select((r, i) => new RouteSpec
                {
                    // Unique ids whose order is unrelated to declaration order, so id tie-breaks are exercised.
                    Id = r.Item1 + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Enabled = r.Item4 != 0,
                    UpstreamPool = "pool",
                    Match = new RouteMatchSpec { Hosts = r.Item2.Distinct(StringComparer.OrdinalIgnoreCase).ToArray(), Path = r.Item3 },
                })
                .ToArray());

    private static readonly Gen<(string Host, string Path)> GenRequest =
        Gen.Select(
            Gen.OneOf(RequestHosts),
            Gen.Select(Gen.OneOf(Segments).Array[0, 4], Gen.Bool, Gen.Int[0, 9]).Select(p =>
                p.Item3 == 0 ? "" : p.Item3 == 1 ? "/apix" : "/" + string.Join('/', p.Item1) + (p.Item2 ? "/" : "")));

    [Fact]
    public void Fast_matcher_agrees_with_the_brute_force_reference()
    {
        Gen.Select(GenRoutes, GenRequest.Array[1, 30]).Sample((routes, requests) =>
        {
            var config = new ProxyConfig { Routes = routes };
            var table = RouteTable.Compile(config);
            foreach (var (host, path) in requests)
            {
                var expected = ReferenceMatcher.Match(config, host, path);
                var actual = table.Match(host, path);
                if (actual?.Index != expected || !ReferenceEquals(table.Explain(host, path).Matched, actual))
                {
                    return false;
                }
            }
            return true;
        }, iter: 3_000, print: t => Describe(t.Item1, t.Item2));
    }

    private static string Describe(RouteSpec[] routes, (string Host, string Path)[] requests)
    {
        var config = new ProxyConfig { Routes = routes };
        var table = RouteTable.Compile(config);
        var lines = routes.Select((r, i) =>
            $"  [{i}] {r.Id} enabled={r.Enabled} hosts=[{string.Join(",", r.Match.Hosts)}] path={r.Match.Path?.Type ?? "any"} {r.Match.Path?.Value}");
        var results = requests.Select(q =>
            $"  {q.Host} {q.Path} -> fast {table.Match(q.Host, q.Path)?.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, reference {ReferenceMatcher.Match(config, q.Host, q.Path)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
        return "routes:\n" + string.Join("\n", lines) + "\nrequests:\n" + string.Join("\n", results);
    }
}
