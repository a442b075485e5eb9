using Xunit;

namespace Lb.TestSupport;

/// <summary>Finds build outputs of other projects in this repository, in the test assembly's own configuration.</summary>
public static class RepoPaths
{
    /// <summary>The repository root (the directory holding <c>Lb.slnx</c>) this test assembly was built from.</summary>
    public static string Root()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Lb.slnx")))
        {
            root = root.Parent;
        }
        Assert.NotNull(root);
        return root!.FullName;
    }

    /// <summary>The build configuration of this test assembly (<c>Release</c> or <c>Debug</c>).</summary>
    public static string Configuration() => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    /// <summary><c>&lt;repo&gt;/&lt;projectDir&gt;/bin/&lt;Configuration&gt;/net10.0/&lt;dll&gt;</c>; fails the test if it is not built.</summary>
    public static string BuiltDll(string projectDir, string dll)
    {
        // The test assembly lives in .../bin/<Configuration>/net10.0/
        var here = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = here.Parent!.Name;
        var root = here;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Lb.slnx")))
        {
            root = root.Parent;
        }
        Assert.NotNull(root);
        var path = Path.Combine(root!.FullName, projectDir, "bin", configuration, "net10.0", dll);
        Assert.True(File.Exists(path), $"build it first: {path}");
        return path;
    }
}
