using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Lb.Balancing.Health;

/// <summary>The meter <c>Lb.Balancing</c>; every method is a no-op without an <see cref="IMeterFactory"/>.</summary>
internal sealed class HealthMetrics
{
    public const string MeterName = "Lb.Balancing";

    private readonly Counter<long>? _transitions;
    private readonly Counter<long>? _ejections;

    public HealthMetrics(IMeterFactory? meterFactory)
    {
        if (meterFactory is null)
        {
            return;
        }
        var meter = meterFactory.Create(new MeterOptions(MeterName));
        _transitions = meter.CreateCounter<long>("lb.upstream.health_transitions", unit: "{transition}",
            description: "Active health check verdict changes of upstream targets.");
        _ejections = meter.CreateCounter<long>("lb.upstream.ejections", unit: "{ejection}",
            description: "Passive health ejections of upstream targets.");
    }

    public void Transition(string pool, string target, bool healthy)
    {
        if (_transitions is { Enabled: true } counter)
        {
            var tags = new TagList { { "pool", pool }, { "target", target }, { "to", healthy ? "healthy" : "unhealthy" } };
            counter.Add(1, tags);
        }
    }

    public void Ejected(string pool, string target)
    {
        if (_ejections is { Enabled: true } counter)
        {
            var tags = new TagList { { "pool", pool }, { "target", target } };
            counter.Add(1, tags);
        }
    }
}
