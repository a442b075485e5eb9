using System.Net.Sockets;
using Lb.AspNetCore.FastPath;

namespace Lb.AspNetCore.Tests;

/// <summary>
/// The fast path's inline I/O sets the runtime's internal per-socket switch; a runtime update that drops or renames it
/// must fail here rather than quietly cost the proxy its inline completions.
/// </summary>
public sealed class InlineCompletionsTests
{
    [Fact]
    public void This_runtime_lets_one_socket_complete_inline_without_the_process_wide_variable()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "the per-socket switch exists in the Unix socket engine only");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var processWide = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";

        Assert.True(InlineCompletions.TryEnable(socket));

        Assert.True(InlineCompletions.IsEnabled(socket));
        Assert.Equal(processWide, InlineCompletions.IsEnabled(other)); // only the socket it was asked for
    }
}
