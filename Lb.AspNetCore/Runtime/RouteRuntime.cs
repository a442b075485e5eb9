using Lb.Balancing;
using Lb.Routing;

namespace Lb.AspNetCore.Runtime;

/// <summary>What serving one route needs, prepared once per snapshot.</summary>
internal sealed class RouteRuntime(CompiledRoute route, UpstreamPool? pool, int poolIndex, IRouteBalancer? balancer, PickInputs inputs)
{
    public CompiledRoute Route { get; } = route;

    /// <summary>The route's pool; null when the configuration names a pool that does not exist.</summary>
    public UpstreamPool? Pool { get; } = pool;

    /// <summary>Index of <see cref="Pool"/> in <see cref="RuntimeSnapshot.Pools"/>; -1 without a pool.</summary>
    public int PoolIndex { get; } = poolIndex;

    /// <summary>Null exactly when <see cref="Pool"/> is.</summary>
    public IRouteBalancer? Balancer { get; } = balancer;

    /// <summary>What the balancer reads from a request, as its policy declared; the transport fetches only this.</summary>
    public PickInputs Inputs { get; } = inputs;
}
