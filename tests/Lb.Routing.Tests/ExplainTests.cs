using static Lb.Routing.Tests.Routes;

namespace Lb.Routing.Tests;

public sealed class ExplainTests
{
    private static readonly RouteTable Table = Routes.Table(
        Prefix("api", "/api/", "shop.example.com"),
        Prefix("admin", "/api/admin/", "shop.example.com"),
        Exact("off", "/api/admin/x", "shop.example.com").Disabled(),
        Prefix("wild", "/", "*.example.com"),
        Any("fallback"));

    [Fact]
    public void Explain_names_the_winner_its_level_and_the_losers_with_reasons()
    {
        var explanation = Table.Explain("SHOP.example.com:8443", "/api/admin/x");

        Assert.Equal("admin", explanation.Matched?.Id);
        Assert.Equal("shop.example.com", explanation.Host);
        Assert.Equal("/api/admin/x", explanation.Path);
        Assert.Equal("shop.example.com", explanation.HostLevel);
        Assert.Equal(["off", "admin", "api"], explanation.Candidates.Select(c => c.Route.Id));

        var off = explanation.Candidates[0];
        Assert.False(off.PathMatched);
        Assert.Contains("disabled", off.Reason, StringComparison.Ordinal);

        var admin = explanation.Candidates[1];
        Assert.True(admin.Selected);
        Assert.StartsWith("selected", admin.Reason, StringComparison.Ordinal);

        var api = explanation.Candidates[2];
        Assert.True(api.PathMatched);
        Assert.False(api.Selected);
        Assert.Contains("deeper prefix", api.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_lists_the_levels_it_fell_through()
    {
        var explanation = Table.Explain("shop.example.com", "/other");

        Assert.Equal("wild", explanation.Matched?.Id);
        Assert.Equal("*.example.com", explanation.HostLevel);
        Assert.Equal(["shop.example.com", "shop.example.com", "shop.example.com", "*.example.com"], explanation.Candidates.Select(c => c.HostLevel));
        Assert.All(explanation.Candidates.Take(3), c => Assert.False(c.PathMatched));
    }

    [Fact]
    public void Explain_without_a_match_reports_every_level_tried()
    {
        var table = Routes.Table(Exact("only", "/only", "a.test"));

        var explanation = table.Explain("a.test", null);

        Assert.Null(explanation.Matched);
        Assert.Null(explanation.HostLevel);
        Assert.Equal("/", explanation.Path);
        var candidate = Assert.Single(explanation.Candidates);
        Assert.Contains("does not match", candidate.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_for_an_unknown_host_without_catch_all_has_no_candidates()
    {
        var table = Routes.Table(Exact("only", "/only", "a.test"));

        var explanation = table.Explain("b.test", "/only");

        Assert.Null(explanation.Matched);
        Assert.Empty(explanation.Candidates);
    }
}
