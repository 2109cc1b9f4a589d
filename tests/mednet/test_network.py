import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from mednet.errors import InvalidRequest, UnknownCommunity, UnknownInstitution
from mednet.models import Role, Tier
from mednet.network import build_network, compile_network, home_community, resolve_community, resolve_institution
from mednet.regions import load_region


@pytest.fixture(scope="module")
def region():
    return load_region("quzhou")


@pytest.fixture(scope="module")
def G(region):
    return build_network(region)


def test_graph_holds_every_institution_and_link(region, G):
    assert G.graph["region"] == "quzhou" and G.graph["crs"] == "EPSG:4326"
    assert set(G) == {i.id for i in region.institutions}
    assert G.number_of_edges() == len({frozenset((link.a, link.b)) for link in region.links})
    assert nx.is_connected(G)
    for _, _, km in G.edges(data="distance_km"):
        assert km > 0


def test_node_attributes_come_from_the_region(region, G):
    inst = region.institutions[0]
    node = G.nodes[inst.id]
    assert (node["name"], node["tier"], node["lat"], node["lon"]) == (inst.name, inst.tier, inst.lat, inst.lon)
    assert set(node["capabilities"]) == {c.specialty for c in inst.capabilities}


@pytest.mark.parametrize("name", ["华埠", "池淮(张湾)", "芹阳(金村)", "马金(塘坞)", "乌溪江中心分院", "贺村中心卫生院"])
def test_names_as_the_article_writes_them_resolve(G, name):
    node = resolve_institution(G, name)
    assert Tier(G.nodes[node]["tier"]).is_primary_care


def test_unknown_name_suggests_the_closest(G):
    with pytest.raises(UnknownInstitution, match="did you mean '华埠"):
        resolve_institution(G, "华铺")


def test_ambiguous_name_is_refused():
    region = load_region("quzhou")
    a, b = region.institutions[0], region.institutions[1]
    twin = b.model_copy(update={"aliases": (*b.aliases, a.name)})
    G = build_network(region.model_copy(update={"institutions": (a, twin, *region.institutions[2:])}))
    with pytest.raises(InvalidRequest, match="is ambiguous"):
        resolve_institution(G, a.name)


def test_communities_resolve_by_id_or_name(G):
    com = resolve_community(G, "开化县人民医院医共体")
    assert resolve_community(G, com.id) is com
    huabu = resolve_institution(G, "华埠")
    assert home_community(G, huabu) == com.id
    with pytest.raises(UnknownCommunity, match="did you mean"):
        resolve_community(G, "开化县人民医院医共")


def test_compiled_arrays_agree_with_the_graph(G):
    net = compile_network(G)
    assert net.n == G.number_of_nodes() and (net.csr != net.csr.T).nnz == 0
    source = net.index[resolve_institution(G, "华埠")]
    dist = dijkstra(net.csr, indices=source)
    expected = nx.single_source_dijkstra_path_length(G, net.ids[source], weight="distance_km")
    assert dist == pytest.approx([expected[n] for n in net.ids])
    for c, com_id in enumerate(net.community_ids):
        com = G.graph["communities"][com_id]
        assert net.ids[net.community_lead[c]] == com.lead
        assert {net.ids[i] for i in np.flatnonzero(net.home == c)} == set(com.ids(Role.LEAD, Role.BRANCH))
    gp = net.column("general_practice")
    assert net.capable[net.primary_care, gp].all()  # the township standard requires general practice
    assert np.isnan(net.population).all()  # the Quzhou file gives no population


def test_compiled_population_is_the_graph_s_none_as_nan(G):
    H = G.copy()
    first, second = list(H)[:2]
    H.nodes[first]["population"] = 41250
    net = compile_network(H)
    assert net.population[net.index[first]] == 41250.0
    assert np.isnan(net.population[net.index[second]]) and np.isnan(net.population).sum() == net.n - 1
