using System.Text;
using Lb.Core.Options;
using Lb.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Lb.Core.Tests;

public sealed class PackageOptionsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A package's options: its settable properties are its app.json keys.</summary>
    public sealed class SamplePackageOptions
    {
        public int MaxConnections { get; set; }

        public bool Enabled { get; set; }

        public IList<string> Peers { get; set; } = [];
    }

    private sealed class SamplePackageValidator : IValidateOptions<SamplePackageOptions>
    {
        public ValidateOptionsResult Validate(string? name, SamplePackageOptions options) =>
            options.MaxConnections < 0 ? ValidateOptionsResult.Fail("maxConnections must be 0 (unlimited) or more") : ValidateOptionsResult.Success;
    }

    private static IReadOnlyDictionary<string, string?> Read(string json) =>
        BootFile.ReadConfiguration(Encoding.UTF8.GetBytes(json), "app.json", [typeof(LbNodeOptions), typeof(SamplePackageOptions)]);

    [Fact]
    public void A_new_package_key_is_accepted_once_it_is_a_property_of_that_package_options()
    {
        var values = Read("""{"nodeId":"n1","maxConnections":100,"enabled":true,"peers":["a","b"]}""");
        Assert.Equal("n1", values["Lb:NodeId"]);
        Assert.Equal("100", values["Lb:MaxConnections"]);
        Assert.Equal("true", values["Lb:Enabled"]);
        Assert.Equal("b", values["Lb:Peers:1"]);

        var bound = new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(BootFile.SectionName).Get<SamplePackageOptions>()!;
        Assert.Equal(100, bound.MaxConnections);
        Assert.Equal(["a", "b"], bound.Peers);
    }

    [Fact]
    public void An_unknown_key_names_itself_the_closest_known_key_and_every_known_one()
    {
        var ex = Assert.Throws<BootFileException>(() => Read("""{"maxConection":5}"""));
        Assert.Contains("unknown field 'maxConection': did you mean 'maxConnections'?", ex.Message, StringComparison.Ordinal);
        Assert.Contains("proxyListenAddr", ex.Message, StringComparison.Ordinal);

        var wrongKind = Assert.Throws<BootFileException>(() => Read("""{"maxConnections":"many"}"""));
        Assert.Contains("invalid value at 'maxConnections': expected a whole number", wrongKind.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_package_binds_its_options_from_the_node_section_and_validates_them_on_start()
    {
        var values = new Dictionary<string, string?>(Read("""{"maxConnections":-1}""")) { ["Lb:RaftDataDir"] = _dir.Path };
        var section = new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(BootFile.SectionName);
        var builder = Host.CreateApplicationBuilder();
        var lb = builder.Services.AddLoadBalancer(section);
        lb.AddLbOptions<SamplePackageOptions>(static (s, o) => s.Bind(o));
        lb.AddLbOptions<SamplePackageOptions>(static (s, o) => s.Bind(o));
        builder.Services.AddSingleton<IValidateOptions<SamplePackageOptions>, SamplePackageValidator>();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("maxConnections must be 0 (unlimited) or more", ex.Message, StringComparison.Ordinal);
        // The default (0) is valid: the failure proves the file's -1 was bound.
        Assert.Equal(typeof(SamplePackageOptions), ex.OptionsType);
    }

    [Fact]
    public void Options_composed_in_code_map_to_the_same_keys_as_the_file()
    {
        var options = new SamplePackageOptions { MaxConnections = 7, Enabled = true, Peers = ["10.0.0.1"] };
        var values = BootFile.ToConfiguration(options);
        var bound = new SamplePackageOptions();
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(BootFile.SectionName).Bind(bound);
        Assert.Equal((7, true, "10.0.0.1"), (bound.MaxConnections, bound.Enabled, Assert.Single(bound.Peers)));
    }
}
