using System.Text.Json;
using System.Text.RegularExpressions;
using Lb.Core.Json;
using Lb.Core.Options;
using Lb.Core.Spec;
using Lb.TestSupport;

namespace Lb.Core.Tests;

/// <summary>docs/configuration.md cannot drift: each table lists exactly the fields the code reads.</summary>
public sealed partial class ConfigurationDocTests
{
    public static TheoryData<string> Sections() => [.. Expected().Keys];

    private static Dictionary<string, string[]> Expected() => new()
    {
        ["document"] = [.. DesiredStateJson.FieldNames(typeof(ConfigDocumentWire))],
        ["route"] = [.. DesiredStateJson.FieldNames(typeof(RouteSpec))],
        ["match"] = [.. DesiredStateJson.FieldNames(typeof(RouteMatchSpec))],
        ["path"] = [.. DesiredStateJson.FieldNames(typeof(PathMatchSpec))],
        ["sticky_cookie"] = [.. DesiredStateJson.FieldNames(typeof(StickyCookieSpec))],
        ["pool"] = [.. DesiredStateJson.FieldNames(typeof(UpstreamPoolSpec))],
        // The object form of a target has its own converter: its fields are the record's.
        ["upstream"] = [.. typeof(UpstreamSpec).GetProperties().Where(p => p.Name != "EqualityContract" && p.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonIgnoreAttribute), false).Length == 0).Select(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name))],
        ["health_check"] = [.. DesiredStateJson.FieldNames(typeof(HealthCheckSpec))],
        ["passive_health"] = [.. DesiredStateJson.FieldNames(typeof(PassiveHealthSpec))],
        ["tcp_listener"] = [.. DesiredStateJson.FieldNames(typeof(TcpListenerSpec))],
        // The reference server composes the node and admin options (Lb.Core) and the proxy options (Lb.AspNetCore).
        ["app.json"] = [.. BootFile.KnownKeys([typeof(Lb.AspNetCore.Options.ProxyOptions)])],
    };

    [Theory]
    [MemberData(nameof(Sections))]
    public void Every_field_is_documented_and_every_documented_field_exists(string section)
    {
        var documented = Documented(section);
        var expected = Expected()[section];
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_table_in_the_reference_is_checked()
    {
        var marked = FieldsMarker().Matches(Doc()).Select(m => m.Groups[1].Value);
        Assert.Equal(Expected().Keys.Order(StringComparer.Ordinal), marked.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_readme_links_the_reference()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root(), "README.md"));
        Assert.Contains("(docs/configuration.md)", readme, StringComparison.Ordinal);
    }

    private static string Doc() => File.ReadAllText(Path.Combine(RepoPaths.Root(), "docs", "configuration.md"));

    /// <summary>The first-column names of the table under <c>&lt;!-- fields: section --&gt;</c>.</summary>
    private static string[] Documented(string section)
    {
        var doc = Doc();
        var marker = $"<!-- fields: {section} -->";
        var start = doc.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/configuration.md has no '{marker}' table");
        var end = doc.IndexOf("\n#", start, StringComparison.Ordinal);
        var body = end < 0 ? doc[start..] : doc[start..end];
        return [.. FirstCell().Matches(body).Select(m => m.Groups[1].Value)];
    }

    [GeneratedRegex(@"<!-- fields: (\S+) -->")]
    private static partial Regex FieldsMarker();

    [GeneratedRegex(@"^\| `([^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex FirstCell();
}
