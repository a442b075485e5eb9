using System.Text.RegularExpressions;
using Lb.Core.Spec;
using Lb.Routing.Matching;

namespace Lb.Routing.Tests;

public sealed class RegexTimeoutTests
{
    [Fact]
    public void Regex_that_times_out_counts_as_no_match_and_does_not_throw()
    {
        // The table always uses PathRegex.MatchTimeout (100 ms); a 1 ms budget makes a timeout reachable in a test.
        var regex = new Regex("(a|b)*c", PathRegex.Options, TimeSpan.FromMilliseconds(1));
        var spec = Routes.Regex("slow", "(a|b)*c");
        var route = new CompiledRoute(spec, 0, [], RoutePathKinds.Regex, spec.Match.Path!.Value, regex);
        var fallback = new CompiledRoute(Routes.Any("fallback"), 1, [], RoutePathKinds.Any, null, null);
        var bucket = HostBucket.Create("*", [route, fallback]);
        var path = "/" + new string('a', 20_000_000);

        var matched = route.MatchesPath(path, out var timedOut);

        Assert.False(matched);
        Assert.True(timedOut);
        Assert.Same(fallback, bucket.Match(path));
    }
}
