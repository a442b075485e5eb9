using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Vip.Driver;

namespace Lb.Vip.Tests;

/// <summary>An interface in memory: which addresses are on it, every call with its (fake) time, failures on demand.</summary>
internal sealed class FakeVipDriver(TimeProvider time) : IVipDriver
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _addresses = [];
    private readonly List<(string Op, string Address, DateTimeOffset At)> _calls = [];

    public Func<string, string?> FailWith { get; set; } = _ => null;

    public event Action? Changed;

    public IReadOnlyList<(string Op, string Address, DateTimeOffset At)> Calls
    {
        get { lock (_gate) { return [.. _calls]; } }
    }

    public bool Has(string cidr)
    {
        lock (_gate) { return _addresses.Contains(cidr); }
    }

    public int Count(string op) => Calls.Count(c => c.Op == op);

    /// <summary>As if an earlier run had left the address there.</summary>
    public void Preload(string cidr)
    {
        lock (_gate) { _addresses.Add(cidr); }
    }

    public TimeSpan? LastLifetime { get; private set; }

    /// <summary>Recorded as "refresh" when the address is already there (the kernel then only renews its lifetime).</summary>
    public void AddAddress(string interfaceName, VipCidr address, TimeSpan lifetime)
    {
        string op;
        lock (_gate)
        {
            op = _addresses.Contains(address.ToString()) ? "refresh" : "add";
        }
        Do(op, address, () =>
        {
            _addresses.Add(address.ToString());
            LastLifetime = lifetime;
        });
    }

    /// <summary>As if someone ran <c>ip addr del</c>, or the kernel let the lifetime run out.</summary>
    public void Vanish(string cidr)
    {
        lock (_gate) { _addresses.Remove(cidr); }
    }

    public void RemoveAddress(string interfaceName, VipCidr address) => Do("remove", address, () => _addresses.Remove(address.ToString()));

    public void AnnounceAddress(string interfaceName, VipCidr address) => Do("announce", address, () => Assert.Contains(address.ToString(), _addresses));

    private void Do(string op, VipCidr address, Action apply)
    {
        lock (_gate)
        {
            _calls.Add((op, address.ToString(), time.GetUtcNow()));
            if (FailWith(op == "refresh" ? "add" : op) is { } message)
            {
                throw new VipDriverException(message);
            }
            apply();
        }
        Changed?.Invoke();
    }
}

/// <summary>A store in memory.</summary>
internal sealed class FakeStore : IDesiredStateStore
{
    private readonly DesiredStateChangeSignal _signal;

    public FakeStore(DesiredState initial) => _signal = new(new VersionedDesiredState(1, initial, DateTimeOffset.UnixEpoch));

    public VersionedDesiredState Current => _signal.Current;

    public ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        var next = new VersionedDesiredState(Current.Version + 1, state, DateTimeOffset.UnixEpoch);
        _signal.Publish(next);
        return ValueTask.FromResult(new StoreWriteResult { Status = StoreWriteStatus.Applied, Current = next });
    }

    public ValueTask<VersionedDesiredState> WaitForChangeAsync(long knownVersion, CancellationToken cancellationToken = default) =>
        _signal.WaitForChangeAsync(knownVersion, cancellationToken);
}
