using Lb.Core.Spec;

namespace Lb.Core.Tests;

public class GoDurationTests
{
    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("500ms", 500)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData(".5s", 500)]
    [InlineData("1h", 3_600_000)]
    [InlineData("0", 0)]
    [InlineData("-1s", -1_000)]
    [InlineData("+2ms", 2)]
    [InlineData("2500us", 2.5)]
    [InlineData("2500µs", 2.5)]
    [InlineData("2500μs", 2.5)]
    [InlineData("1000000ns", 1)]
    public void Parses_go_durations(string text, double milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("", "time: invalid duration \"\"")]
    [InlineData("10", "time: missing unit in duration \"10\"")]
    [InlineData("1x", "time: unknown unit \"x\" in duration \"1x\"")]
    [InlineData("s", "time: invalid duration \"s\"")]
    [InlineData("1s ", "time: unknown unit \"s \" in duration \"1s \"")]
    [InlineData("-", "time: invalid duration \"-\"")]
    [InlineData("99999999999999999999h", "time: invalid duration \"99999999999999999999h\"")]
    public void Rejects_like_go_with_the_same_message(string text, string message)
    {
        Assert.False(GoDuration.TryParse(text, out _, out var error));
        Assert.Equal(message, error);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(500, "500ms")]
    [InlineData(1_500, "1.5s")]
    [InlineData(90_000, "1m30s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(2.5, "2.5ms")]
    public void Formats_like_go(double milliseconds, string text) =>
        Assert.Equal(text, GoDuration.Format(TimeSpan.FromMilliseconds(milliseconds)));
}
