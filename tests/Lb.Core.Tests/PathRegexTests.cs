using Lb.Core.Spec;

namespace Lb.Core.Tests;

public sealed class PathRegexTests
{
    [Theory]
    [InlineData("^/a{1000}$")]
    [InlineData("^/(ab){10}(c{100})$")]
    [InlineData("^/[{]1001}")]
    [InlineData("^/a\\{1001}")]
    [InlineData("^/a{,1001}")]
    public void Repeat_counts_within_re2_bounds_compile(string pattern) =>
        Assert.True(PathRegex.TryCreate(pattern, out _, out var error), error);

    [Theory]
    [InlineData("^/a{1001}", "invalid repeat count: `{1001}`")]
    [InlineData("^/a{2,1001}", "invalid repeat count: `{2,1001}`")]
    [InlineData("^/(a{1000}){1000}", "repeats a part that already repeats, 1000000 times")]
    [InlineData("^/((a{10}){10}){11}", "repeats a part that already repeats, 1100 times")]
    public void Repeat_counts_over_1000_are_rejected_like_re2(string pattern, string message)
    {
        Assert.False(PathRegex.TryCreate(pattern, out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("look-around", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pattern_built_before_is_the_same_instance_and_a_different_pattern_is_not()
    {
        Assert.True(PathRegex.TryCreate(@"^/reuse/[a-z]+/\d+$", out var first, out _));
        Assert.True(PathRegex.TryCreate(@"^/reuse/[a-z]+/\d+$", out var again, out _));
        Assert.True(PathRegex.TryCreate(@"^/reuse/[a-z]+/\d*$", out var other, out _));

        Assert.Same(first, again);
        Assert.NotSame(first, other);
        Assert.Equal(@"^/reuse/[a-z]+/\d*$", other!.ToString());
    }
}
