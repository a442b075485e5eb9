using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.Raft.Tests;

internal static class Configs
{
    /// <summary>A valid desired state whose one pool points at <paramref name="port"/> (so each call can differ).</summary>
    public static DesiredState WithPool(int port)
    {
        var json = "{\"config\":{\"routes\":[{\"id\":\"web\",\"enabled\":true,\"match\":{\"hosts\":[\"example.test\"]},\"upstream_pool\":\"web\"}],"
            + "\"upstream_pools\":{\"web\":{\"upstreams\":[\"127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"]}}}}";
        var parsed = DesiredStateJson.ParseState(Encoding.UTF8.GetBytes(json));
        return parsed.Value ?? throw new InvalidOperationException(parsed.Message);
    }

    public static int PortOf(DesiredState state) =>
        int.Parse(state.Config.UpstreamPools["web"].Upstreams[0].Address.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
}
