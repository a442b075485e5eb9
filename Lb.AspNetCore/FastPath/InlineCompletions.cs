using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Lb.AspNetCore.FastPath;

/// <summary>
/// Per-socket inline completions: the socket engine's epoll thread runs the continuation of a completed receive or
/// send itself instead of queueing it to the thread pool (no hand-off, no context switch per read). The runtime
/// offers this process-wide only through the <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> environment variable
/// (no runtimeconfig or AppContext switch as of .NET 10), and per socket through <c>Socket.PreferInlineCompletions</c>,
/// an internal setter the runtime keeps for reflection (its <c>DynamicDependency</c>), read at every socket event.
/// Only sockets whose continuations never block may use it: the fast path's client and upstream connections.
/// </summary>
internal static class InlineCompletions
{
    private static volatile bool s_unavailable;

    /// <summary>Turns inline completions on for <paramref name="socket"/>; false when this runtime has no such setter.</summary>
    public static bool TryEnable(Socket socket)
    {
        if (s_unavailable)
        {
            return false;
        }
        try
        {
            SetPreferInlineCompletions(socket, true);
            return true;
        }
        catch (MissingMethodException)
        {
            s_unavailable = true; // a runtime without the setter (Windows, or a future version): thread-pool completions
            return false;
        }
    }

    /// <summary>Whether <paramref name="socket"/> completes inline; false when this runtime cannot say.</summary>
    public static bool IsEnabled(Socket socket)
    {
        try
        {
            // The shipped Socket keeps only the setter; the handle it writes to keeps the getter the engine reads.
            return GetPreferInlineCompletions(Handle(socket));
        }
        catch (Exception ex) when (ex is MissingMethodException or MissingFieldException)
        {
            return false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_handle")]
    private static extern ref SafeSocketHandle Handle(Socket socket);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_PreferInlineCompletions")]
    private static extern bool GetPreferInlineCompletions(SafeSocketHandle handle);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_PreferInlineCompletions")]
    private static extern void SetPreferInlineCompletions(Socket socket, bool value);
}
