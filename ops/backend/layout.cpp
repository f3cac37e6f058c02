// Memory descriptors and layouts (see layout.h).
#include "ops/backend/layout.h"

namespace ops::backend {

memory::dims to_dims(const Shape& s) { return memory::dims(s.begin(), s.end()); }

tag plain_tag(std::size_t rank) {
  switch (rank) {
    case 1: return tag::a;
    case 2: return tag::ab;
    case 3: return tag::abc;
    case 4: return tag::abcd;
    default: return tag::abcde;
  }
}

memory::desc plain_md(const Shape& s) { return {to_dims(s), dt::f32, plain_tag(s.size())}; }
memory::desc any_md(const Shape& s) { return {to_dims(s), dt::f32, tag::any}; }
memory::desc flat_md(std::int64_t n, dt type) { return {{n}, type, tag::a}; }

Shape conv_weight_dims(const Shape& w, std::int64_t groups) {
  if (groups == 1) return w;
  return {groups, w[0] / groups, w[1], w[2], w[3]};
}

namespace {

tag tag_of(Layout l, std::size_t rank) {
  switch (l) {
    case Layout::nChw16c: return tag::nChw16c;
    case Layout::nChw8c: return tag::nChw8c;
    case Layout::nhwc: return tag::nhwc;
    case Layout::plain: break;
  }
  return plain_tag(rank);
}

}  // namespace

memory::desc layout_md(const Shape& s, Layout l, dt type) { return {to_dims(s), type, tag_of(l, s.size())}; }

std::optional<Layout> layout_of(const memory::desc& md, const Shape& s) {
  if (md == plain_md(s)) return Layout::plain;
  const dt type = md.data_type();
  if (s.size() != 4 || (type != dt::f32 && type != dt::bf16)) return std::nullopt;
  const auto bytes = static_cast<std::size_t>(core::shape_numel(s)) * memory::data_type_size(type);
  for (Layout l : {Layout::nChw16c, Layout::nChw8c, Layout::nhwc}) {
    const memory::desc want = layout_md(s, l, type);
    if (md == want && want.get_size() == bytes) return l;
  }
  return std::nullopt;
}

}  // namespace ops::backend
