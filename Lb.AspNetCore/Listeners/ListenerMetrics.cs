using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Lb.AspNetCore.Listeners;

/// <summary>
/// Listener metrics on the meter <c>Lb.AspNetCore.Listeners</c>: connections refused over a listener's budget, and
/// each listener's open connections and budget (sampled when scraped).
/// </summary>
internal sealed class ListenerMetrics
{
    public const string MeterName = "Lb.AspNetCore.Listeners";

    private readonly Counter<long> _rejected;
    private readonly ConcurrentDictionary<string, (Func<long> Open, long Max)> _listeners = new(StringComparer.Ordinal);

    public ListenerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _rejected = meter.CreateCounter<long>("lb.listener.connections.rejected", "{connection}", "Connections closed at accept because the listener was at its connection budget");
        meter.CreateObservableGauge("lb.listener.connections.open", () => Observe(static l => l.Open()), "{connection}", "Open connections per listener");
        meter.CreateObservableGauge("lb.listener.connections.max", () => Observe(static l => l.Max), "{connection}", "Connection budget per listener");
    }

    public void Register(string listener, Func<long> open, long max) => _listeners[listener] = (open, max);

    public void Rejected(string listener) => _rejected.Add(1, new KeyValuePair<string, object?>("listener", listener));

    private IEnumerable<Measurement<long>> Observe(Func<(Func<long> Open, long Max), long> value)
    {
        foreach (var (name, listener) in _listeners)
        {
            yield return new Measurement<long>(value(listener), new KeyValuePair<string, object?>("listener", name));
        }
    }
}
