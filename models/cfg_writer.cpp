#include "models/cfg_writer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/overloaded.h"

namespace models {

using core::Overloaded;

namespace {

// Relative references read like Darknet's own cfgs ("from=-3", "layers=-1,61").
std::string reference(int target, int index) { return fmt::format("{}", target - index); }

std::string layer_section(const LayerSpec& spec, int index) {
  return std::visit(
      Overloaded{
          [](const ConvLayer& c) {
            return fmt::format("[convolutional]\nbatch_normalize={}\nfilters={}\nsize={}\nstride={}\npadding={}\n"
                               "groups={}\nactivation={}\n",
                               c.batch_normalize ? 1 : 0, c.filters, c.size, c.stride, c.padding, c.groups,
                               activation_name(c.activation));
          },
          [&](const ShortcutLayer& s) {
            return fmt::format("[shortcut]\nfrom={}\nactivation={}\n", reference(s.from, index),
                               activation_name(s.activation));
          },
          [&](const RouteLayer& r) {
            std::vector<std::string> parts;
            // Darknet's cfgs write the first entry relative and later ones absolute.
            for (std::size_t k = 0; k < r.layers.size(); ++k) {
              parts.push_back(k == 0 ? reference(r.layers[k], index) : fmt::format("{}", r.layers[k]));
            }
            return fmt::format("[route]\nlayers={}\n", fmt::join(parts, ","));
          },
          [](const UpsampleLayer& u) { return fmt::format("[upsample]\nstride={}\nscale={}\n", u.stride, u.scale); },
          [](const MaxpoolLayer& m) {
            return fmt::format("[maxpool]\nsize={}\nstride={}\npadding={}\n", m.size, m.stride, m.padding);
          },
          [](const YoloLayer& y) {
            return fmt::format("[yolo]\nmask={}\nanchors={}\nclasses={}\nnum={}\njitter={}\nignore_thresh={}\n"
                               "truth_thresh={}\nrandom={}\nmax={}\n",
                               fmt::join(y.mask, ","), fmt::join(y.anchors, ","), y.classes, y.anchors.size() / 2,
                               y.jitter, y.ignore_thresh, y.truth_thresh, y.random ? 1 : 0, y.max_boxes);
          },
          [](const AvgpoolLayer&) { return std::string("[avgpool]\n"); },
          [](const SoftmaxLayer& s) {
            return fmt::format("[softmax]\ngroups={}\ntemperature={}\n", s.groups, s.temperature);
          }},
      spec);
}

}  // namespace

std::string layers_to_cfg(const NetworkDef& def) {
  std::string out;
  for (std::size_t i = 0; i < def.layers.size(); ++i) {
    out += '\n';
    out += layer_section(def.layers[i].spec, static_cast<int>(i));
  }
  return out;
}

std::string network_def_to_cfg(const NetworkDef& def) {
  const NetSettings& n = def.net;
  std::string out = fmt::format("[net]\nbatch={}\nsubdivisions={}\nwidth={}\nheight={}\nchannels={}\nmomentum={}\ndecay={}\n"
                     "learning_rate={}\nburn_in={}\nmax_batches={}\n",
                     n.batch, n.subdivisions, n.width, n.height, n.channels, n.momentum, n.decay, n.learning_rate,
                     n.burn_in, n.max_batches);
  out += layers_to_cfg(def);
  return out;
}

}  // namespace models
