namespace Lb.Core.Tests;
public class SmokeTests { [Fact] public void Works() => Assert.True(true); [Fact] public void Skips() => Assert.Skip("x"); }
