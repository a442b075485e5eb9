using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Lb.AspNetCore.FastPath.Loop;

/// <summary>A connection that lives on an <see cref="IoLoop"/> (a feature of the connections its transport accepts).</summary>
internal interface IIoLoopFeature
{
    IoLoop Loop { get; }

    /// <summary>
    /// When the loop runs the connection's middleware itself (not Kestrel): asks it to give the connection to Kestrel
    /// once the middleware returns, with nothing of its input consumed; false when Kestrel already runs it.
    /// </summary>
    bool HandOff();
}

/// <summary>Something registered on an <see cref="IoLoop"/>: called on the loop thread with the epoll event bits.</summary>
internal interface ILoopHandler
{
    void OnEvents(uint events);
}

/// <summary>
/// One epoll event loop on a thread of its own (issue #16): the fast path's client and upstream sockets of a
/// connection live on the same loop, and their continuations run on its thread, so a proxied request costs no
/// thread hand-off. One loop per processor the process may use (<see cref="Environment.ProcessorCount"/> honours
/// the affinity mask); a connection stays on the loop that accepted it, and its upstream connections are made
/// and pooled on that loop.
/// </summary>
internal sealed unsafe class IoLoop
{
    private const int MaxEvents = 256;

    [ThreadStatic]
    private static IoLoop? t_current;

    private static readonly Lock s_create = new();
    private static IoLoop[]? s_loops;
    private static uint s_next;

    private readonly int _epfd;
    private readonly int _eventfd;
    private readonly Lock _gate = new();
    private readonly ConcurrentQueue<(Action<object?> Work, object? State)> _work = new();
    private Slot[] _slots = new Slot[256];
    private int[] _free = new int[256];
    private int _freeCount;
    private int _used;
    private int _wakePending;

    private struct Slot
    {
        public ILoopHandler? Handler;
        public uint Generation;
    }

    private IoLoop(int index)
    {
        Index = index;
        _epfd = Native.epoll_create1(Native.EPOLL_CLOEXEC);
        if (_epfd < 0)
        {
            throw Native.Error(Native.Errno);
        }
        _eventfd = Native.eventfd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
        if (_eventfd < 0 || Native.Add(_epfd, _eventfd, Native.EPOLLIN | Native.EPOLLET, 0) != 0)
        {
            throw Native.Error(Native.Errno);
        }
        var thread = new Thread(Run) { IsBackground = true, Name = $"Lb I/O loop {index}" };
        thread.UnsafeStart();
    }

    /// <summary>The epoll descriptor.</summary>
    public int Descriptor => _epfd;

    /// <summary>Position of this loop in <see cref="All"/>: the index of its upstream connection pools.</summary>
    public int Index { get; }

    /// <summary>The loop whose thread is running, or null on any other thread.</summary>
    public static IoLoop? Current => t_current;

    /// <summary>Whether this OS has the loop (Linux).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>The loops, started on first use.</summary>
    public static IoLoop[] All
    {
        get
        {
            if (s_loops is { } loops)
            {
                return loops;
            }
            lock (s_create)
            {
                if (s_loops is null)
                {
                    var created = new IoLoop[Math.Max(1, Environment.ProcessorCount)];
                    for (var i = 0; i < created.Length; i++)
                    {
                        created[i] = new IoLoop(i);
                    }
                    s_loops = created;
                }
                return s_loops;
            }
        }
    }

    /// <summary>The running loop, or the next one round robin from another thread.</summary>
    public static IoLoop Pick()
    {
        if (t_current is { } current)
        {
            return current;
        }
        var all = All;
        return all[Interlocked.Increment(ref s_next) % (uint)all.Length];
    }

    /// <summary>Adds <paramref name="fd"/> to the loop; the token to <see cref="Unregister"/> it with.</summary>
    public ulong Register(int fd, uint events, ILoopHandler handler)
    {
        ulong token;
        lock (_gate)
        {
            int slot;
            if (_freeCount > 0)
            {
                slot = _free[--_freeCount];
            }
            else
            {
                if (_used == _slots.Length)
                {
                    var grown = new Slot[_slots.Length * 2];
                    _slots.CopyTo(grown, 0);
                    Volatile.Write(ref _slots, grown);
                    Array.Resize(ref _free, grown.Length);
                }
                slot = _used++;
            }
            _slots[slot].Handler = handler;
            var generation = ++_slots[slot].Generation;
            token = ((ulong)generation << 32) | (uint)(slot + 1);
        }
        if (Native.Add(_epfd, fd, events, token) != 0)
        {
            var errno = Native.Errno;
            Unregister(token);
            throw Native.Error(errno);
        }
        return token;
    }

    /// <summary>
    /// Frees the slot of a handler whose descriptor is closed (closing removes it from epoll); events still queued
    /// for it carry the old generation and are dropped.
    /// </summary>
    public void Unregister(ulong token)
    {
        var slot = (int)(uint)token - 1;
        lock (_gate)
        {
            if (_slots[slot].Generation == (uint)(token >> 32) && _slots[slot].Handler is not null)
            {
                _slots[slot].Handler = null;
                _free[_freeCount++] = slot;
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> on the loop thread (inline when already on it).</summary>
    public void Run(Action<object?> work, object? state)
    {
        if (t_current == this)
        {
            work(state);
            return;
        }
        Post(work, state);
    }

    /// <summary>Continues on the loop thread: at once when already there, else through the loop's queue.</summary>
    public SwitchAwaitable SwitchTo() => new(this);

    /// <summary>Awaitable of <see cref="SwitchTo"/> (no allocation: the continuation is the state machine's cached delegate).</summary>
    internal readonly struct SwitchAwaitable(IoLoop loop) : System.Runtime.CompilerServices.ICriticalNotifyCompletion
    {
        public SwitchAwaitable GetAwaiter() => this;

        public bool IsCompleted => t_current == loop;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => loop.Post(static c => ((Action)c!)(), continuation);

        public void UnsafeOnCompleted(Action continuation) => loop.Post(static c => ((Action)c!)(), continuation);
    }

    /// <summary>Queues <paramref name="work"/> to the loop thread.</summary>
    public void Post(Action<object?> work, object? state)
    {
        _work.Enqueue((work, state));
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            ulong one = 1;
            Native.write(_eventfd, (byte*)&one, sizeof(ulong));
        }
    }

    private void Run()
    {
        t_current = this;
        var events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * Native.EventSize));
        while (true)
        {
            var n = Native.epoll_wait(_epfd, events, MaxEvents, -1);
            if (n < 0)
            {
                continue; // EINTR
            }
            for (var i = 0; i < n; i++)
            {
                var data = Native.EventData(events, i);
                if (data == 0)
                {
                    ulong value;
                    Native.read(_eventfd, (byte*)&value, sizeof(ulong));
                    Volatile.Write(ref _wakePending, 0);
                    RunWork();
                    continue;
                }
                var slot = (int)(uint)data - 1;
                var slots = Volatile.Read(ref _slots);
                var entry = slots[slot];
                if (entry.Handler is { } handler && entry.Generation == (uint)(data >> 32))
                {
                    Dispatch(handler, Native.EventMask(events, i));
                }
            }
        }
    }

    private void RunWork()
    {
        while (_work.TryDequeue(out var item))
        {
            try
            {
                item.Work(item.State);
            }
#pragma warning disable CA1031 // The loop outlives any one connection's failure; each handler reports its own.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    private static void Dispatch(ILoopHandler handler, uint events)
    {
        try
        {
            handler.OnEvents(events);
        }
#pragma warning disable CA1031 // See RunWork.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
