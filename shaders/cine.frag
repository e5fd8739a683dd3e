#version 330 core
// Window/level on the GPU: the frames stay in their float pixel units in the texture, so a drag
// of the window costs one uniform, not a new upload.
uniform sampler2DArray frames;
uniform float layer;
uniform float low;        // level - window / 2
uniform float inv_window; // 1 / window
in vec2 uv;
out vec4 colour;

void main ()
{
  float v = texture (frames, vec3 (uv, layer)).r;
  float g = clamp ((v - low) * inv_window, 0.0, 1.0);
  colour = vec4 (g, g, g, 1.0);
}
