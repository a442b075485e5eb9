using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Lb.AspNetCore.FastPath.Loop;

/// <summary>
/// The few Linux calls the I/O loop makes (libc, no marshalling beyond pointers and ints). Constants are the
/// generic Linux ABI values, the same on x86-64 and arm64; only <c>struct epoll_event</c> differs (packed on x86-64).
/// </summary>
internal static unsafe partial class Native
{
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;
    public const int SOL_SOCKET = 1;
    public const int SO_ERROR = 4;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int SHUT_WR = 1;
    public const int SHUT_RDWR = 2;

    public const uint EPOLLIN = 0x1;
    public const uint EPOLLOUT = 0x4;
    public const uint EPOLLERR = 0x8;
    public const uint EPOLLHUP = 0x10;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLEXCLUSIVE = 1u << 28;
    public const uint EPOLLET = 1u << 31;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ECONNABORTED = 103;
    public const int ENOBUFS = 105;
    public const int EINPROGRESS = 115;

    /// <summary>Size of <c>struct epoll_event</c>: 12 bytes packed on x86-64, 16 elsewhere.</summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static readonly int EventDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    public static uint EventMask(byte* events, int i) => Unsafe.ReadUnaligned<uint>(events + (i * EventSize));

    public static ulong EventData(byte* events, int i) => Unsafe.ReadUnaligned<ulong>(events + (i * EventSize) + EventDataOffset);

    public static int Add(int epfd, int fd, uint events, ulong data)
    {
        var ev = stackalloc byte[16];
        Unsafe.WriteUnaligned(ev, events);
        Unsafe.WriteUnaligned(ev + EventDataOffset, data);
        return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev);
    }

    public static int Errno => Marshal.GetLastPInvokeError();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int connect(int fd, byte* addr, int addrlen);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int accept4(int fd, byte* addr, int* addrlen, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recv(int fd, byte* buf, nint len, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint send(int fd, byte* buf, nint len, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, byte* value, int len);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, byte* value, int* len);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockname(int fd, byte* addr, int* len);

    public static void SetNoDelay(int fd)
    {
        var one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, (byte*)&one, sizeof(int));
    }

    /// <summary>Writes <paramref name="endPoint"/> as a sockaddr into <paramref name="addr"/> (128 bytes); its length.</summary>
    public static int WriteSockaddr(IPEndPoint endPoint, byte* addr)
    {
        new Span<byte>(addr, 128).Clear();
        var port = (ushort)endPoint.Port;
        addr[2] = (byte)(port >> 8);
        addr[3] = (byte)port;
        if (endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            Unsafe.WriteUnaligned(addr, (ushort)AF_INET);
            endPoint.Address.TryWriteBytes(new Span<byte>(addr + 4, 4), out _);
            return 16;
        }
        Unsafe.WriteUnaligned(addr, (ushort)AF_INET6);
        endPoint.Address.TryWriteBytes(new Span<byte>(addr + 8, 16), out _);
        Unsafe.WriteUnaligned(addr + 24, (uint)endPoint.Address.ScopeId);
        return 28;
    }

    /// <summary>The address in a sockaddr_in / sockaddr_in6, or null for another family.</summary>
    public static IPEndPoint? ReadSockaddr(byte* addr)
    {
        var family = Unsafe.ReadUnaligned<ushort>(addr);
        var port = (addr[2] << 8) | addr[3];
        if (family == AF_INET)
        {
            return new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(addr + 4, 4)), port);
        }
        if (family == AF_INET6)
        {
            return new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(addr + 8, 16), Unsafe.ReadUnaligned<uint>(addr + 24)), port);
        }
        return null;
    }

    /// <summary>A SocketException for an errno value, with the runtime's message for it.</summary>
    public static SocketException Error(int errno) => new((int)(errno switch
    {
        111 => SocketError.ConnectionRefused,
        104 => SocketError.ConnectionReset,
        32 => SocketError.Shutdown,
        110 => SocketError.TimedOut,
        113 => SocketError.HostUnreachable,
        101 => SocketError.NetworkUnreachable,
        99 => SocketError.AddressNotAvailable,
        EMFILE or ENFILE => SocketError.TooManyOpenSockets,
        ENOBUFS or ENOMEM => SocketError.NoBufferSpaceAvailable,
        ECONNABORTED => SocketError.ConnectionAborted,
        107 => SocketError.NotConnected,
        _ => SocketError.SocketError,
    }));
}
