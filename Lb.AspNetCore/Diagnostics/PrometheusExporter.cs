using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Lb.AspNetCore.Diagnostics;

/// <summary>
/// Aggregates every instrument of the <c>Lb.*</c> meters created by this host's <see cref="IMeterFactory"/> (and of the
/// runtime's <c>System.Runtime</c> meter) and renders them in the Prometheus text format for
/// <c>/metrics</c>. Recording a measurement for a known label set allocates nothing (the series is found by
/// its tag values), so it can sit on the proxy path. Written here because OpenTelemetry's Prometheus exporter is
/// prerelease-only and prometheus-net's meter adapter exported none of our IMeterFactory meters when tried.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private const string RuntimeMeter = "System.Runtime";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<SeriesKey, Series> _series = new();
    private readonly ConcurrentDictionary<Instrument, byte> _instruments = new();

    // The proxy records the same few label sets over and over with the same string instances (route and pool ids and
    // target addresses from the runtime snapshot, constant status classes): this small cache finds their series by
    // reference, without hashing the strings (~1 % of the keep-alive profile went to these lookups). Slots are filled
    // once and never replaced, so colliding label sets cannot make measurements allocate; observable instruments (whose
    // series each scrape replaces) stay out, and a scrape that drops series of removed targets empties it.
    private const int RecentSlots = 64;
    private readonly RecentSeries?[] _recent = new RecentSeries?[RecentSlots];
    private int _removals; // bumped before the cache is emptied: a series cached during a removal is taken back out

    private readonly Func<string, string, bool>? _isLiveTarget;

    /// <param name="meterFactory">The host's meter factory; only its <c>Lb.*</c> meters are exported.</param>
    /// <param name="isLiveTarget">
    /// Given a series' <c>pool</c> and <c>target</c> tags, whether that target is still configured; series of targets
    /// that are not are dropped at the next scrape (a removed backend's counters do not linger forever). Null keeps all.
    /// </param>
    public PrometheusExporter(IMeterFactory meterFactory, Func<string, string, bool>? isLiveTarget = null)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _isLiveTarget = isLiveTarget;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Meters are process-wide; only those from this host's factory (it sets itself as their scope) are ours,
            // so two load balancers in one process do not export each other's series.
            // Plus the runtime's own process and GC meter (dotnet_* series); it is observable only, so free between scrapes.
            if ((ReferenceEquals(instrument.Meter.Scope, meterFactory) && instrument.Meter.Name.StartsWith("Lb.", StringComparison.Ordinal))
                || instrument.Meter.Name == RuntimeMeter)
            {
                _instruments[instrument] = 0;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var tag0 = Tag(tags, 0);
        var tag1 = Tag(tags, 1);
        var tag2 = Tag(tags, 2);
        var slot = (RuntimeHelpers.GetHashCode(instrument) ^ (RuntimeHelpers.GetHashCode(tag0) * 31) ^ (RuntimeHelpers.GetHashCode(tag1) * 961)
            ^ (RuntimeHelpers.GetHashCode(tag2) * 29791)) & (RecentSlots - 1);
        var recent = Volatile.Read(ref _recent[slot]);
        var removals = Volatile.Read(ref _removals);
        Series? series;
        if (recent is not null && ReferenceEquals(recent.Instrument, instrument) && ReferenceEquals(recent.Tag0, tag0)
            && ReferenceEquals(recent.Tag1, tag1) && ReferenceEquals(recent.Tag2, tag2))
        {
            series = recent.Series;
        }
        else
        {
            var key = new SeriesKey(instrument, tag0, tag1, tag2);
            if (!_series.TryGetValue(key, out series))
            {
                series = _series.GetOrAdd(key, static (k, state) => new Series(state.Names, k.Instrument is Histogram<double> or Histogram<long>),
                    (Names: NamesOf(tags), Dummy: 0));
            }
            if (recent is null && !instrument.IsObservable)
            {
                var entry = new RecentSeries(instrument, tag0, tag1, tag2, series);
                if (Interlocked.CompareExchange(ref _recent[slot], entry, null) is null && Volatile.Read(ref _removals) != removals)
                {
                    Interlocked.CompareExchange(ref _recent[slot], null, entry);
                }
            }
        }
        series.Add(value, instrument is ObservableGauge<long> or ObservableGauge<double> or ObservableGauge<int>);
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, int index) =>
        index < tags.Length ? tags[index].Value as string ?? tags[index].Value?.ToString() : null;

    private static string[] NamesOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var names = new string[Math.Min(tags.Length, 3)];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = tags[i].Key;
        }
        return names;
    }

    /// <summary>Renders the current values (observable instruments are sampled now).</summary>
    public string Render()
    {
        // Observable instruments report their whole current set at each scrape; dropping the previous samples first
        // keeps series of removed targets or pools from lingering with a stale value.
        foreach (var key in _series.Keys)
        {
            if (key.Instrument.IsObservable)
            {
                _series.TryRemove(key, out _);
            }
        }
        if (_isLiveTarget is not null)
        {
            foreach (var (key, series) in _series)
            {
                if (!key.Instrument.IsObservable && TargetOf(series.Names, key) is ({ } pool, { } target) && !_isLiveTarget(pool, target))
                {
                    _series.TryRemove(key, out _);
                    Interlocked.Increment(ref _removals);
                    Array.Clear(_recent); // it may hold the dropped series
                }
            }
        }
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var group in _series.GroupBy(s => s.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = group.Key;
            var isHistogram = instrument is Histogram<double> or Histogram<long>;
            var isCounter = instrument is Counter<long> or Counter<double> or ObservableCounter<long> or ObservableCounter<double>;
            var name = PromName(instrument);
            text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description ?? instrument.Name).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(isHistogram ? "histogram" : isCounter ? "counter" : "gauge").Append('\n');
            foreach (var (key, series) in group.OrderBy(s => s.Key.ToString(), StringComparer.Ordinal))
            {
                var labels = Labels(series.Names, key);
                if (isHistogram)
                {
                    var cumulative = 0L;
                    for (var b = 0; b < DurationBuckets.Length; b++)
                    {
                        cumulative += Interlocked.Read(ref series.Buckets![b]);
                        text.Append(name).Append("_bucket{").Append(labels).Append(labels.Length > 0 ? "," : "").Append("le=\"")
                            .Append(DurationBuckets[b].ToString(CultureInfo.InvariantCulture)).Append("\"} ").Append(cumulative).Append('\n');
                    }
                    var count = Interlocked.Read(ref series.Count);
                    text.Append(name).Append("_bucket{").Append(labels).Append(labels.Length > 0 ? "," : "").Append("le=\"+Inf\"} ").Append(count).Append('\n');
                    text.Append(name).Append("_sum").Append(Braced(labels)).Append(' ').Append(series.Sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                    text.Append(name).Append("_count").Append(Braced(labels)).Append(' ').Append(count).Append('\n');
                }
                else
                {
                    text.Append(name).Append(Braced(labels)).Append(' ').Append(series.Sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                }
            }
        }
        return text.ToString();
    }

    /// <summary>Upper bounds of the duration histogram buckets (the last bucket, above them all, is implicit).</summary>
    public static IReadOnlyList<double> HistogramBounds => DurationBuckets;

    /// <summary>
    /// Copies the current values of every series of the instrument named <paramref name="instrumentName"/>: its tag
    /// values, sum, and for histograms the per-bucket counts (not cumulative; one more than the bounds, for overflow).
    /// </summary>
    public List<(IReadOnlyDictionary<string, string?> Tags, double Sum, long[]? Buckets)> Sample(string instrumentName)
    {
        var samples = new List<(IReadOnlyDictionary<string, string?> Tags, double Sum, long[]? Buckets)>();
        foreach (var (key, series) in _series)
        {
            if (key.Instrument.Name != instrumentName)
            {
                continue;
            }
            long[]? buckets = null;
            if (series.Buckets is not null)
            {
                buckets = new long[DurationBuckets.Length + 1];
                var inBuckets = 0L;
                for (var b = 0; b < DurationBuckets.Length; b++)
                {
                    buckets[b] = Interlocked.Read(ref series.Buckets[b]);
                    inBuckets += buckets[b];
                }
                buckets[^1] = Math.Max(0, Interlocked.Read(ref series.Count) - inBuckets);
            }
            string?[] values = [key.Tag0, key.Tag1, key.Tag2];
            var tags = new Dictionary<string, string?>(StringComparer.Ordinal);
            for (var i = 0; i < series.Names.Length; i++)
            {
                tags[series.Names[i]] = values[i];
            }
            samples.Add((tags, series.Sum, buckets));
        }
        return samples;
    }

    private static string PromName(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_').Replace('-', '_');
        if (instrument is Histogram<double> or Histogram<long> && instrument.Unit == "s" && !name.EndsWith("_seconds", StringComparison.Ordinal))
        {
            name += "_seconds";
        }
        if (instrument is Counter<long> or Counter<double> or ObservableCounter<long> or ObservableCounter<double> && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }
        return name;
    }

    private static (string? Pool, string? Target) TargetOf(string[] names, SeriesKey key)
    {
        string? pool = null, target = null;
        string?[] values = [key.Tag0, key.Tag1, key.Tag2];
        for (var i = 0; i < names.Length; i++)
        {
            switch (names[i])
            {
                case "pool":
                    pool = values[i];
                    break;
                case "target":
                    target = values[i];
                    break;
            }
        }
        return (pool, target);
    }

    private static string Labels(string[] names, SeriesKey key)
    {
        var parts = new List<string>(3);
        string?[] values = [key.Tag0, key.Tag1, key.Tag2];
        for (var i = 0; i < names.Length; i++)
        {
            parts.Add($"{names[i]}=\"{Escape(values[i] ?? "")}\"");
        }
        return string.Join(",", parts);
    }

    private static string Braced(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    public void Dispose() => _listener.Dispose();

    private readonly record struct SeriesKey(Instrument Instrument, string? Tag0, string? Tag1, string? Tag2);

    private sealed record RecentSeries(Instrument Instrument, string? Tag0, string? Tag1, string? Tag2, Series Series);

    private sealed class Series(string[] names, bool histogram)
    {
        private double _sum;
        public long Count;
        public readonly long[]? Buckets = histogram ? new long[DurationBuckets.Length] : null;

        public string[] Names { get; } = names;

        public double Sum => Volatile.Read(ref _sum);

        public void Add(double value, bool isGauge)
        {
            if (isGauge)
            {
                Volatile.Write(ref _sum, value);
                return;
            }
            double current, updated;
            do
            {
                current = Volatile.Read(ref _sum);
                updated = current + value;
            }
            while (Interlocked.CompareExchange(ref _sum, updated, current) != current);
            if (Buckets is not null)
            {
                Interlocked.Increment(ref Count);
                for (var b = 0; b < DurationBuckets.Length; b++)
                {
                    if (value <= DurationBuckets[b])
                    {
                        Interlocked.Increment(ref Buckets[b]);
                        break;
                    }
                }
            }
        }
    }
}
